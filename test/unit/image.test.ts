/**
 * The pure parts of image pull: checksum and SUMS parsing, the catalog and its
 * config file, names and URLs refused before any network access, the progress line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { digestFromSums, parseChecksum } from '../../src/images/checksum.js';
import { configDir, loadCatalog } from '../../src/images/catalog.js';
import { downloadProgressText } from '../../src/images/progress.js';

const H256 = 'a'.repeat(64);
const H512 = 'b'.repeat(128);

describe('checksums', () => {
  it('parses sha256: and sha512: digests, lower-casing the hex', () => {
    expect(parseChecksum('--checksum', `sha256:${'A'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: H256 });
    expect(parseChecksum('--checksum', `sha512:${H512}`)).toEqual({ algorithm: 'sha512', hex: H512 });
  });
  for (const bad of ['md5:' + 'a'.repeat(32), 'sha256:' + 'a'.repeat(63), 'sha512:' + H256, 'sha256:' + 'g'.repeat(64), H256, 'sha256:', '']) {
    it(`refuses ${JSON.stringify(bad.slice(0, 20))} (exit 2 class)`, () => {
      expect(() => parseChecksum('--checksum', bad)).toThrow(/invalid --checksum/);
    });
  }

  // Layouts as Debian (SHA512SUMS), Ubuntu and CirrOS (SHA256SUMS, "*name"), and Fedora/Alma/Rocky (BSD CHECKSUM) publish them.
  const gnu = `${H512}  debian-12-genericcloud-amd64.json\n${'c'.repeat(128)}  debian-12-genericcloud-amd64.qcow2\n`;
  const star = `${'d'.repeat(64)} *noble-server-cloudimg-amd64.img\n${'e'.repeat(64)} *noble-server-cloudimg-arm64.img\n`;
  const bsd = `# Fedora-Cloud-41-1.4-x86_64-CHECKSUM\n-----BEGIN PGP SIGNED MESSAGE-----\nSHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = ${'f'.repeat(64)}\n`;
  it('finds the entry in GNU, binary-marked and BSD layouts', () => {
    expect(digestFromSums(gnu, 'debian-12-genericcloud-amd64.qcow2')).toEqual({ algorithm: 'sha512', hex: 'c'.repeat(128) });
    expect(digestFromSums(star, 'noble-server-cloudimg-amd64.img')).toEqual({ algorithm: 'sha256', hex: 'd'.repeat(64) });
    expect(digestFromSums(bsd, 'Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2')).toEqual({ algorithm: 'sha256', hex: 'f'.repeat(64) });
  });
  it('has no answer for a file it does not list, a prefix of a listed name, or a name listed with two digests', () => {
    expect(digestFromSums(gnu, 'debian-12.qcow2')).toBeUndefined();
    expect(digestFromSums(gnu, 'debian-12-genericcloud-amd64')).toBeUndefined();
    expect(digestFromSums(`${H256}  x.img\n${'9'.repeat(64)}  x.img\n`, 'x.img')).toBeUndefined();
  });
  it('prefers sha512 when both are listed', () => {
    expect(digestFromSums(`${H256}  x.img\n${H512}  x.img\n`, 'x.img')).toEqual({ algorithm: 'sha512', hex: H512 });
  });
});

describe('catalog', () => {
  const read = (files: Record<string, string>) => async (p: string) => files[p];
  it('has the distributions the documentation names, each with a checksum source', async () => {
    const names = (await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({}))).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['debian-12', 'debian-13', 'ubuntu-24.04', 'ubuntu-22.04', 'fedora-41', 'almalinux-9', 'rocky-9', 'alpine-3.20', 'cirros-0.6']));
    for (const e of await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({}))) {
      expect(e.url).toMatch(/^https:\/\//);
      expect(e.sums ?? e.checksum).toBeDefined();
    }
  });
  it('takes entries from images.json in the config directory, overriding built-ins by name', async () => {
    const file = JSON.stringify({ images: [{ name: 'debian-12', url: 'http://mirror.lan/d12.qcow2', checksum: `sha256:${H256}` }, { name: 'mine', url: 'https://x/y.img', sums: 'https://x/SHA256SUMS' }] });
    const cat = await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({ '/c/images.json': file }));
    expect(cat.find((e) => e.name === 'debian-12')).toMatchObject({ url: 'http://mirror.lan/d12.qcow2', checksum: { algorithm: 'sha256', hex: H256 }, sums: undefined, origin: '/c/images.json' });
    expect(cat.find((e) => e.name === 'mine')).toMatchObject({ sums: 'https://x/SHA256SUMS' });
  });
  const bad: Array<[string, RegExp]> = [
    ['not json', /not valid JSON/],
    ['{}', /no "images" list/],
    [JSON.stringify({ images: [{ name: '../x', url: 'https://x/y' }] }), /not a valid image name/],
    [JSON.stringify({ images: [{ name: 'x', url: 'file:///etc/shadow', checksum: `sha256:${H256}` }] }), /uses file:/],
    [JSON.stringify({ images: [{ name: 'x', url: 'https://x/y' }] }), /names neither checksum nor sums/],
    [JSON.stringify({ images: [{ name: 'x', url: 'https://x/y', sums: 'ftp://x/SUMS' }] }), /uses ftp:/],
  ];
  for (const [text, message] of bad) {
    it(`refuses a config file with ${message.source}`, async () => {
      await expect(loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({ '/c/images.json': text }))).rejects.toThrow(message);
    });
  }
  it('lives in $KVMCTL_CONFIG_DIR, else /etc/kvmctl for root', () => {
    expect(configDir({ KVMCTL_CONFIG_DIR: '/x' })).toBe('/x');
    if (process.getuid?.() === 0) expect(configDir({})).toBe('/etc/kvmctl');
  });
});

describe('progress line', () => {
  it('shows bytes, percent, speed and time left', () => {
    expect(downloadProgressText('pulling d.qcow2', 50 * 2 ** 20, 200 * 2 ** 20, 10 * 2 ** 20)).toBe('pulling d.qcow2 25% 50.0 MiB of 200.0 MiB 10.0 MiB/s ETA 15s');
    expect(downloadProgressText('pulling d.qcow2', 0, 2 ** 30, 2 ** 20)).toMatch(/ETA 17m04s$/);
    expect(downloadProgressText('pulling d.qcow2', 5, undefined, 0)).toBe('pulling d.qcow2 5 B 0 B/s');
  });
});

describe('image pull and vm create --image: refused before anything runs', () => {
  async function run(argv: string[]) {
    const io = memoryIO({ KVMCTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kvmctl-image-unit-')), KVMCTL_CONFIG_DIR: '/nonexistent' });
    const runner = new FakeRunner();
    const code = await main(['node', 'kvmctl', '-c', 'qemu:///system', ...argv], { io, runner, fs: memoryFs({}), version: 'test', signal: new AbortController().signal, argv });
    return { code, err: io.err, calls: runner.calls };
  }
  const cases: Array<[string[], number, RegExp]> = [
    [['image', 'pull', 'file:///etc/passwd', '--checksum', `sha256:${H256}`], 2, /uses file:, which kvmctl does not download from/],
    [['image', 'pull', 'ftp://example.org/x.qcow2', '--checksum', `sha256:${H256}`], 2, /uses ftp:/],
    [['image', 'pull', 'data:,hello', '--checksum', `sha256:${H256}`], 2, /uses data:/],
    [['image', 'pull', 'https://u:p@example.org/x.qcow2', '--checksum', `sha256:${H256}`], 2, /user name or password/],
    [['image', 'pull', 'https://example.org/a/..%2f..%2fetc', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/.hidden.qcow2', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--name', '../x'], 2, /invalid image name "..\/x"/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--name', 'a;b'], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/x.qcow2'], 2, /no checksum to verify it against/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', 'md5:x'], 2, /invalid --checksum/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--sums', 'https://example.org/S'], 2, /not both/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--sums', 'file:///etc/SUMS'], 2, /--sums/],
    [['image', 'pull', 'debian-12', '--pool', '../etc'], 2, /invalid pool name/],
    [['image', 'pull', 'no-such-image'], 3, /no image "no-such-image" in the catalog/],
    [['vm', 'create', 'w', '--image', 'file:///etc/passwd'], 2, /uses file:/],
    [['vm', 'create', 'w', '--image', 'ftp://example.org/x.qcow2,checksum=sha256:' + H256], 2, /uses ftp:/],
    [['vm', 'create', 'w', '--image', 'https://example.org/x.qcow2'], 2, /no checksum to verify it against/],
    [['vm', 'create', 'w', '--image', './disk.qcow2,checksum=sha256:' + H256], 2, /unknown key "checksum"/],
  ];
  for (const [argv, code, message] of cases) {
    it(`${argv.join(' ').slice(0, 100)}`, async () => {
      const r = await run(argv);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(code);
      expect(r.calls).toEqual([]);
    });
  }
});
