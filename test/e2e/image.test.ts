/**
 * kvmctl image pull and vm create --image against an HTTP server this test
 * starts on the loopback of the lab's network namespace (test/e2e/image-server.mjs):
 * success, bad checksums, SUMS files, HTTP errors, a redirect, a lying
 * Content-Length, a cut connection then a resume with a Range request, Ctrl-C,
 * two pulls at once, a pool without room, names and URLs that would escape,
 * an image whose header refers to a host file; then a VM from a catalog name.
 * Every refusal leaves the pool's files and libvirt's objects as they were.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, virsh, type RunResult } from './lab.js';
import { snapshotHost } from './host-state.js';
import { parseOutput } from '../support/schemas.js';
import { cli, newStateDir, removeStateDirs, start } from './reliability/harness.js';

const POOL = 'e2e-image';
const poolDir = () => join(lab.dir, 'pools', POOL);
const www = () => join(lab.dir, 'pools', `${POOL}-www`);
const config = () => join(lab.dir, 'pools', `${POOL}-config`);
const imageDir = () => join(poolDir(), '.kvmctl-images');
const VMS = ['kvm1', 'kvm2', 'kvm3', 'kvm4'];
let stateDir = '';
let server: ChildProcess | undefined;
let base = '';
let tlsBase = '';
let proxy = '';
const cert = () => join(www(), 'cert.pem');
const requests: Array<{ method: string; url: string; range: string | null; ifRange: string | null }> = [];
let createdDefaultPool = false;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const must = (r: RunResult, what: string) => {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`);
};
// No proxy from the machine's environment: the server is on the namespace's own loopback.
const NO_PROXY_ENV = { HTTP_PROXY: '', HTTPS_PROXY: '', NO_PROXY: '', http_proxy: '', https_proxy: '', no_proxy: '' };
const env = (extra: Record<string, string> = {}) => {
  const e: Record<string, string> = { KVMCTL_CONFIG_DIR: config(), ...NO_PROXY_ENV, ...extra };
  // A proxy variable given in upper case only: its empty lower-case twin would win.
  for (const k of Object.keys(extra)) if (k.toLowerCase() in NO_PROXY_ENV && k !== k.toLowerCase()) delete e[k.toLowerCase()];
  return e;
};
const kv = (args: string[]) => cli(args, { stateDir, env: env() });
const state = () => snapshotHost({ dirs: [poolDir()], netns: '' });
const volumes = () => virsh('vol-list', '--pool', POOL).stdout;
const requestsSince = (n: number) => requests.slice(n);

function tool(cmd: string, ...args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function removeVms(): void {
  for (const vm of VMS) {
    virsh('destroy', '--domain', vm);
    virsh('undefine', '--domain', vm);
  }
}

function cleanup(): void {
  removeVms();
  for (const p of [POOL, ...(createdDefaultPool ? ['default'] : [])]) {
    virsh('pool-destroy', '--pool', p);
    virsh('pool-undefine', '--pool', p);
  }
  for (const d of [poolDir(), www(), config(), join(lab.dir, 'pools', `${POOL}-default`)]) rmSync(d, { recursive: true, force: true });
}

const keyring = () => join(config(), 'keyring.gpg');

/** A signing key of the test's own; SHA256SUMS signed with it, and a signature of another file to stand for a forged one. */
function signSums(): void {
  const home = join(config(), 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (...args: string[]) => must(tool('gpg', '--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args), `gpg ${args[0]}`);
  gpg('--quick-gen-key', 'kvmctl e2e <e2e@kvmctl.invalid>', 'ed25519', 'sign', 'never');
  gpg('--output', keyring(), '--export');
  gpg('--output', join(www(), 'SHA256SUMS.gpg'), '--detach-sign', join(www(), 'SHA256SUMS'));
  gpg('--output', join(www(), 'OTHER-SUMS.gpg'), '--detach-sign', join(www(), 'OTHER-SUMS'));
}

async function startServer(): Promise<void> {
  // A certificate for 127.0.0.1 that no CA signed: only NODE_EXTRA_CA_CERTS makes it trusted.
  must(tool('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(www(), 'key.pem'), '-out', cert()), 'openssl req');
  server = spawn('ip', ['netns', 'exec', lab.netns, process.execPath, resolve('test/e2e/image-server.mjs'), www(), cert(), join(www(), 'key.pem')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout! });
  const ports = await new Promise<{ port: number; tlsPort: number; proxyPort: number }>((res, rej) => {
    lines.once('line', (l) => res(JSON.parse(l)));
    server!.once('exit', (c) => rej(new Error(`image server exited ${c}`)));
  });
  lines.on('line', (l) => requests.push(JSON.parse(l)));
  base = `http://127.0.0.1:${ports.port}`;
  tlsBase = `https://127.0.0.1:${ports.tlsPort}`;
  proxy = `http://127.0.0.1:${ports.proxyPort}`;
}

beforeAll(async () => {
  stateDir = newStateDir();
  cleanup();
  for (const d of [poolDir(), www(), config()]) mkdirSync(d, { recursive: true });
  must(virsh('pool-define-as', POOL, 'dir', '--target', poolDir()), 'pool-define-as');
  must(virsh('pool-start', POOL), 'pool-start');
  copyFileSync(join(lab.guestDir, 'disk.qcow2'), join(www(), 'disk.qcow2'));
  // A qcow2 whose header names a host file as its backing file.
  must(tool('qemu-img', 'create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', join(www(), 'evil.qcow2'), '1M'), 'qemu-img create');
  writeFileSync(join(www(), 'SHA256SUMS'), `${sha256(join(www(), 'disk.qcow2'))}  disk.qcow2\n${sha256(join(www(), 'evil.qcow2'))}  evil.qcow2\n`);
  writeFileSync(join(www(), 'OTHER-SUMS'), `${'0'.repeat(64)}  something-else.qcow2\n`);
  signSums();
  await startServer();
  const signed = (name: string, signature: string) => ({ name, url: `${base}/files/disk.qcow2`, sums: `${base}/files/SHA256SUMS`, sumsSignature: `${base}/files/${signature}`, keyring: keyring() });
  writeFileSync(
    join(config(), 'images.json'),
    JSON.stringify({
      images: [
        { name: 'e2e-guest', description: 'the lab guest', url: `${base}/files/disk.qcow2`, sums: `${base}/files/SHA256SUMS` },
        signed('e2e-signed', 'SHA256SUMS.gpg'),
        signed('e2e-badsig', 'OTHER-SUMS.gpg'),
        { ...signed('e2e-nokeyring', 'SHA256SUMS.gpg'), keyring: join(www(), 'no-such-keyring.gpg') },
      ],
    }),
  );
}, 60_000);

afterAll(() => {
  server?.kill('SIGTERM');
  cleanup();
  removeStateDirs();
});

describe('kvmctl image pull (against a local HTTP server in the lab namespace)', () => {
  const disk = () => join(www(), 'disk.qcow2');

  it('pulls a catalog name: the SUMS file, then the image, verified and published read-only with its record', async () => {
    const n = requests.length;
    const pullArgs = ['image', 'pull', 'e2e-guest', '--pool', POOL, '-o', 'json'];
    const r = await kv(pullArgs);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = parseOutput(pullArgs, r.stdout);
    const published = join(poolDir(), 'e2e-guest.qcow2');
    expect(out).toMatchObject({ name: 'e2e-guest.qcow2', pool: POOL, path: published, source: `${base}/files/disk.qcow2`, catalogName: 'e2e-guest', digest: `sha256:${sha256(disk())}`, format: 'qcow2', sizeBytes: statSync(disk()).size, changed: true, resumedFromBytes: 0 });
    expect(requestsSince(n).map((q) => q.url)).toEqual(['/files/SHA256SUMS', '/files/disk.qcow2']);
    expect(sha256(published)).toBe(sha256(disk()));
    expect(statSync(published).mode & 0o777).toBe(0o444);
    expect(volumes()).toMatch(/e2e-guest\.qcow2/);
    expect(existsSync(join(imageDir(), 'e2e-guest.qcow2.part'))).toBe(false);
    // list and info read the record beside it.
    const list = parseOutput(['image', 'list'], (await kv(['image', 'list', '-o', 'json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: 'e2e-guest.qcow2', pool: POOL, digest: out.digest, present: true, vms: [], overlays: [] })]);
    const info = await kv(['image', 'info', 'e2e-guest']);
    expect(info.stdout).toMatch(new RegExp(`digest\\s+sha256:${sha256(disk())}`));
    // The image store is a directory of the pool: libvirt lists it as a volume, ls shows it, kvmctl's volume lists do not.
    expect(readdirSync(poolDir())).toEqual(expect.arrayContaining(['.kvmctl-images', 'e2e-guest.qcow2']));
    expect(volumes()).toMatch(/^ \.kvmctl-images\s/m);
    const vols = parseOutput(['volume', 'list'], (await kv(['volume', 'list', '--pool', POOL, '-o', 'json'])).stdout) as Array<{ name: string }>;
    expect(vols.map((v) => v.name)).toEqual(['e2e-guest.qcow2']);
    const table = await kv(['volume', 'list', '--pool', POOL]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/e2e-guest\.qcow2/);
    expect(table.stdout).not.toMatch(/kvmctl-images/);
    expect(parseOutput(['pool', 'info'], (await kv(['pool', 'info', POOL, '-o', 'json'])).stdout)).toMatchObject({ volumeCount: 1, volumes: [{ name: 'e2e-guest.qcow2' }] });
  });

  it('a second pull downloads nothing and changes nothing', async () => {
    const before = state();
    const n = requests.length;
    const r = await kv(['image', 'pull', 'e2e-guest', '--pool', POOL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/image e2e-image\/e2e-guest.qcow2 is already pulled from .*: unchanged/);
    expect(requestsSince(n)).toEqual([]);
    expect(state()).toEqual(before);
  });

  it('a checksum mismatch publishes nothing, removes the download and exits 5 naming both digests', async () => {
    const before = state();
    const wrong = 'f'.repeat(64);
    const r = await kv(['image', 'pull', `${base}/files/disk.qcow2`, '--pool', POOL, '--name', 'bad.qcow2', '--checksum', `sha256:${wrong}`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`expected ${wrong}, got ${sha256(disk())}`);
    expect(r.stderr).toMatch(/nothing was published and the download was removed/);
    expect(state()).toEqual(before);
  });

  it('a SUMS file without the image\'s entry is exit 5 and the image is never downloaded', async () => {
    const before = state();
    const n = requests.length;
    const r = await kv(['image', 'pull', `${base}/files/disk.qcow2`, '--pool', POOL, '--name', 'nosum.qcow2', '--sums', `${base}/files/OTHER-SUMS`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the checksum file http:\/\/127\.0\.0\.1:\d+\/files\/OTHER-SUMS has no \(single\) sha256 or sha512 entry for disk\.qcow2/);
    expect(requestsSince(n).map((q) => q.url)).toEqual(['/files/OTHER-SUMS']);
    expect(state()).toEqual(before);
  });

  it('404 is exit 3 and 503 exit 1, each naming the URL and the status', async () => {
    const before = state();
    const missing = await kv(['image', 'pull', `${base}/files/nothing.qcow2`, '--pool', POOL, '--checksum', `sha256:${'a'.repeat(64)}`]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/image pull e2e-image\/nothing\.qcow2: http:\/\/127\.0\.0\.1:\d+\/files\/nothing\.qcow2 not found \(HTTP 404\)/);
    const failing = await kv(['image', 'pull', `${base}/status/503`, '--pool', POOL, '--name', 'x.qcow2', '--checksum', `sha256:${'a'.repeat(64)}`]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/\/status\/503 answered HTTP 503\nhint: the server failed; try again later/);
    expect(state()).toEqual(before);
  });

  it('follows a redirect', async () => {
    const n = requests.length;
    const r = await kv(['image', 'pull', `${base}/redirect/disk.qcow2`, '--pool', POOL, '--name', 'redirected.qcow2', '--checksum', `sha256:${sha256(disk())}`]);
    expect(r.code).toBe(0);
    expect(requestsSince(n).map((q) => q.url)).toEqual(['/redirect/disk.qcow2', '/files/disk.qcow2']);
    expect(sha256(join(poolDir(), 'redirected.qcow2'))).toBe(sha256(disk()));
  });

  it('a server whose Content-Length cuts the file short is caught by the digest: exit 5, nothing published', async () => {
    const before = state();
    const r = await kv(['image', 'pull', `${base}/lie/disk.qcow2`, '--pool', POOL, '--name', 'short.qcow2', '--checksum', `sha256:${sha256(disk())}`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/has the wrong sha256 digest: expected /);
    expect(state()).toEqual(before);
  });

  it('a connection cut midway keeps the partial file (exit 1); the next run asks for the rest only (Range) and publishes', async () => {
    const url = `${base}/cut-once/disk.qcow2`;
    const args = ['image', 'pull', url, '--pool', POOL, '--name', 'resumed.qcow2', '--checksum', `sha256:${sha256(disk())}`];
    const first = await kv(args);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/the download from .* broke off after \d+ of \d+ bytes/);
    expect(first.stderr).toMatch(/hint: run the same command again: it resumes from byte \d+/);
    const part = join(imageDir(), 'resumed.qcow2.part');
    const have = statSync(part).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(statSync(disk()).size);
    expect(volumes()).not.toMatch(/resumed\.qcow2/);

    const n = requests.length;
    const second = await kv([...args, '-o', 'json']);
    expect(second.code).toBe(0);
    expect(requestsSince(n)).toEqual([expect.objectContaining({ url: '/cut-once/disk.qcow2', range: `bytes=${have}-`, ifRange: expect.stringMatching(/^"/) })]);
    expect(parseOutput(args, second.stdout)).toMatchObject({ resumedFromBytes: have, downloadedBytes: statSync(disk()).size - have });
    expect(sha256(join(poolDir(), 'resumed.qcow2'))).toBe(sha256(disk()));
    expect(existsSync(part)).toBe(false);
  });

  it('Ctrl-C during a pull: exit 130, the partial file kept, nothing published; the next run resumes', async () => {
    const args = ['image', 'pull', `${base}/slow/disk.qcow2`, '--pool', POOL, '--name', 'interrupted.qcow2', '--checksum', `sha256:${sha256(disk())}`];
    const part = join(imageDir(), 'interrupted.qcow2.part');
    const running = start(args, { stateDir, env: env() });
    const deadline = Date.now() + 30_000;
    while (!(existsSync(part) && statSync(part).size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    running.kill('SIGINT');
    const r = await running.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted after \d+ bytes; the partial download is kept at .*interrupted\.qcow2\.part/);
    expect(statSync(part).size).toBeGreaterThan(0);
    expect(volumes()).not.toMatch(/interrupted\.qcow2/);
    expect(existsSync(join(poolDir(), 'interrupted.qcow2'))).toBe(false);

    const have = statSync(part).size;
    const n = requests.length;
    const again = await kv(args);
    expect(again.code).toBe(0);
    expect(requestsSince(n)).toEqual([expect.objectContaining({ url: '/slow/disk.qcow2', range: `bytes=${have}-` })]);
    expect(sha256(join(poolDir(), 'interrupted.qcow2'))).toBe(sha256(disk()));
  }, 60_000);

  it('two pulls of the same image at once download it once; both exit 0', async () => {
    const n = requests.length;
    const args = ['image', 'pull', `${base}/slow/disk.qcow2`, '--pool', POOL, '--name', 'twice.qcow2', '--checksum', `sha256:${sha256(disk())}`];
    const [a, b] = await Promise.all([kv(args), kv(args)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.stdout, b.stdout].filter((o) => /: unchanged$/m.test(o))).toHaveLength(1);
    expect(requestsSince(n).filter((q) => q.url === '/slow/disk.qcow2')).toHaveLength(1);
    expect(sha256(join(poolDir(), 'twice.qcow2'))).toBe(sha256(disk()));
  }, 60_000);

  it('an image larger than the pool\'s free space is refused (exit 5) before anything is written', async () => {
    const before = state();
    const r = await kv(['image', 'pull', `${base}/huge/disk.qcow2`, '--pool', POOL, '--name', 'huge.qcow2', '--checksum', `sha256:${'a'.repeat(64)}`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/image pull e2e-image\/huge\.qcow2 \(1\.0 PiB\) would need up to 1\.0 PiB, more than the .* free in pool e2e-image/);
    expect(state()).toEqual(before);
  });

  it('names and URLs that would escape the pool, and schemes other than http(s), are exit 2', async () => {
    const before = state();
    const sum = `sha256:${'a'.repeat(64)}`;
    const cases: Array<[string[], RegExp]> = [
      [[`${base}/files/disk.qcow2`, '--name', '../escape.qcow2', '--checksum', sum], /invalid image name "\.\.\/escape\.qcow2"/],
      [[`${base}/files/disk.qcow2`, '--name', '.hidden', '--checksum', sum], /invalid image name "\.hidden"/],
      [[`${base}/files/..%2f..%2fetc%2fpasswd`, '--checksum', sum], /invalid image name "\.\.%2f\.\.%2fetc%2fpasswd"/],
      [['file:///etc/passwd', '--checksum', sum], /uses file:, which kvmctl does not download from/],
      [['ftp://127.0.0.1/disk.qcow2', '--checksum', sum], /uses ftp:/],
    ];
    const n = requests.length;
    for (const [args, message] of cases) {
      const r = await kv(['image', 'pull', ...args, '--pool', POOL]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(requestsSince(n)).toEqual([]);
    expect(state()).toEqual(before);
    expect(existsSync(join(lab.dir, 'pools', 'escape.qcow2'))).toBe(false);
  });

  it('a symlink planted where the partial download goes is not written through (exit 5); its target is untouched', async () => {
    const victim = join(www(), 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const planted = join(imageDir(), 'planted.qcow2.part');
    symlinkSync(victim, planted);
    try {
      const before = state();
      const r = await kv(['image', 'pull', `${base}/files/disk.qcow2`, '--pool', POOL, '--name', 'planted.qcow2', '--checksum', `sha256:${sha256(disk())}`]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/planted\.qcow2\.part is a symlink; kvmctl does not write through it/);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(state()).toEqual(before);
    } finally {
      rmSync(planted, { force: true });
    }
  });

  it('an image whose header refers to a host file is refused as volume import refuses it (exit 5), the download removed', async () => {
    const before = state();
    const r = await kv(['image', 'pull', `${base}/files/evil.qcow2`, '--pool', POOL, '--sums', `${base}/files/SHA256SUMS`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/refers to other files \(.*\/etc\/passwd.*\); importing it would read them/);
    expect(state()).toEqual(before);
  });
});

describe('kvmctl image pull with a signed SUMS file (gpgv)', () => {
  it('checks the signature against the keyring the catalog names, then pulls', async () => {
    const r = await kv(['image', 'pull', 'e2e-signed', '--pool', POOL]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sha256(join(poolDir(), 'e2e-signed.qcow2'))).toBe(sha256(join(www(), 'disk.qcow2')));
  });

  it('a signature that does not verify is exit 5 and the image is never downloaded', async () => {
    const before = state();
    const n = requests.length;
    const r = await kv(['image', 'pull', 'e2e-badsig', '--pool', POOL]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the signature of http:\/\/127\.0\.0\.1:\d+\/files\/SHA256SUMS does not verify against .*keyring\.gpg: .*BAD signature/);
    expect(requestsSince(n).map((q) => q.url)).toEqual(['/files/SHA256SUMS', '/files/OTHER-SUMS.gpg']);
    expect(state()).toEqual(before);
  });

  it('without the keyring installed it warns that the signature was not checked, and verifies the digest', async () => {
    const r = await kv(['image', 'pull', 'e2e-nokeyring', '--pool', POOL]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: image pull e2e-image\/e2e-nokeyring\.qcow2: the signature of .* was not checked: keyring .*no-such-keyring\.gpg is not installed$/m);
  });
});

describe('kvmctl image pull over TLS and through a proxy', () => {
  const disk = () => join(www(), 'disk.qcow2');
  const pull = (name: string, extra: Record<string, string> = {}) =>
    cli(['image', 'pull', `${tlsBase}/files/disk.qcow2`, '--pool', POOL, '--name', name, '--checksum', `sha256:${sha256(disk())}`], { stateDir, env: env(extra) });

  it('refuses a certificate no trusted CA signed (exit 1), even with NODE_TLS_REJECT_UNAUTHORIZED=0; nothing written', async () => {
    const before = state();
    for (const extra of [{}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' }] as Array<Record<string, string>>) {
      const r = await pull('tls.qcow2', extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach https:\/\/127\.0\.0\.1:\d+\/files\/disk\.qcow2: self[- ]signed certificate/);
    }
    expect(state()).toEqual(before);
  });

  it('trusts a private CA given in NODE_EXTRA_CA_CERTS', async () => {
    const r = await pull('tls.qcow2', { NODE_EXTRA_CA_CERTS: cert() });
    expect(r.code).toBe(0);
    expect(sha256(join(poolDir(), 'tls.qcow2'))).toBe(sha256(disk()));
  });

  it('goes through HTTPS_PROXY (a CONNECT tunnel, TLS still verified end to end), and not for a NO_PROXY host', async () => {
    let n = requests.length;
    const via = await pull('proxied.qcow2', { NODE_EXTRA_CA_CERTS: cert(), HTTPS_PROXY: proxy });
    expect(via.code).toBe(0);
    expect(requestsSince(n).map((q) => `${q.method} ${q.url}`)).toEqual([`CONNECT ${new URL(tlsBase).host}`, 'GET /files/disk.qcow2']);
    n = requests.length;
    const direct = await pull('direct.qcow2', { NODE_EXTRA_CA_CERTS: cert(), HTTPS_PROXY: proxy, NO_PROXY: '127.0.0.1' });
    expect(direct.code).toBe(0);
    expect(requestsSince(n).map((q) => `${q.method} ${q.url}`)).toEqual(['GET /files/disk.qcow2']);
  });
});

describe('kvmctl vm create --image CATALOG-NAME', () => {
  it('pulls the image into the default pool, makes the overlay and boots it to an address; a second VM reuses the image', async () => {
    if (virsh('pool-info', '--pool', 'default').code !== 0) {
      const dir = join(lab.dir, 'pools', `${POOL}-default`);
      mkdirSync(dir, { recursive: true });
      must(virsh('pool-define-as', 'default', 'dir', '--target', dir), 'pool-define-as default');
      must(virsh('pool-start', 'default'), 'pool-start default');
      createdDefaultPool = true;
    }
    const n = requests.length;
    const r = await kv(['vm', 'create', 'kvm1', '--memory', '256M', '--image', 'e2e-guest', '--network', 'network=default', '--wait', 'ip', '--timeout', '150']);
    expect(r.stderr).toMatch(/pulled http:\/\/127\.0\.0\.1:\d+\/files\/disk\.qcow2 as image default\/e2e-guest\.qcow2/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^192\.168\.122\.\d+$/);
    expect(requestsSince(n).map((q) => q.url)).toEqual(['/files/SHA256SUMS', '/files/disk.qcow2']);

    const m = requests.length;
    const second = await kv(['vm', 'create', 'kvm2', '--memory', '256M', '--image', 'e2e-guest', '--network', 'network=default', '--no-start']);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/pulled/);
    expect(requestsSince(m)).toEqual([]);

    const image = parseOutput(['image', 'info'], (await kv(['image', 'info', 'default/e2e-guest.qcow2', '-o', 'json'])).stdout);
    expect(image.vms).toEqual(['kvm1', 'kvm2']);
    const before = snapshotHost({ netns: '' });
    const refused = await kv(['image', 'remove', 'default/e2e-guest.qcow2']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/image default\/e2e-guest\.qcow2 is in use by VMs kvm1, kvm2 and overlays .*; it was not removed/);
    expect(snapshotHost({ netns: '' })).toEqual(before);

    for (const vm of ['kvm1', 'kvm2']) must(await kv(['vm', 'delete', vm, '--force', '--remove-storage']), `vm delete ${vm}`);
    const removed = await kv(['image', 'remove', 'default/e2e-guest.qcow2']);
    expect(removed.code).toBe(0);
    expect(virsh('vol-list', '--pool', 'default').stdout).not.toMatch(/e2e-guest/);
  }, 240_000);

  it('a local file is imported into pool= first (volume import\'s checks), once: a second VM reuses the volume', async () => {
    const file = join(www(), 'disk.qcow2');
    const first = await kv(['vm', 'create', 'kvm3', '--memory', '256M', '--image', `${file},pool=${POOL}`, '--network', 'network=default', '--no-start', '-o', 'json']);
    expect(first.code).toBe(0);
    parseOutput(['vm', 'create'], first.stdout); // one JSON document: the import's own result line is not printed
    expect(sha256(join(poolDir(), 'disk.qcow2'))).toBe(sha256(file));
    const overlay = JSON.parse(tool('qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', join(poolDir(), 'kvm3.qcow2')).stdout);
    expect(overlay['backing-filename']).toBe(join(poolDir(), 'disk.qcow2'));
    const second = await kv(['vm', 'create', 'kvm4', '--memory', '256M', '--image', `${file},pool=${POOL}`, '--network', 'network=default', '--no-start']);
    expect(second.code).toBe(0);
    expect(virsh('vol-list', '--pool', POOL).stdout.match(/ disk\.qcow2 /g)).toHaveLength(1);
    for (const vm of ['kvm3', 'kvm4']) must(await kv(['vm', 'delete', vm, '--remove-storage']), `vm delete ${vm}`);
  }, 120_000);
});
