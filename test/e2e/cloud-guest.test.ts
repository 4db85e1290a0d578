/**
 * The README's first example ("A VM from a cloud image, end to end"), run as
 * written against the lab host with a real Debian 12 cloud image (Debian's
 * cloud kernel, cloud-init, openssh-server; `scripts/lab.sh cloud-image`):
 * `image pull debian-12` downloads it from an HTTP server on the loopback of
 * the lab's network namespace (test/e2e/image-server.mjs), the catalog's
 * debian-12 entry pointed at it with its sha256 by images.json in a temporary
 * KVMCTL_CONFIG_DIR. One VM and one linked clone, three boots under
 * emulation (a few minutes each on a loaded machine): every check reuses a
 * booted guest. Checks from inside the lab's network namespace with ssh: the
 * key works for the image's user, the host name, `cloud-init status --long`,
 * the network config applied; the clone is a new instance (instance-id, host
 * keys, host name, MAC, address; systemd's machine-id stays); the clone's base
 * cannot be started; the same create again converges.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SCRIPT, lab, virsh, type RunResult } from './lab.js';
import { snapshotHost } from './host-state.js';
import { newStateDir, removeStateDirs, start } from './reliability/harness.js';

const MAC = '52:54:00:12:34:56';
const poolDir = () => join(lab.dir, 'pools', 'images');
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-cloud-'));
const KEY = join(work, 'id_ed25519');
const NET_YAML = join(work, 'net.yaml');
const CONFIG = join(work, 'config');
const WWW = join(work, 'www');
/** The file name of Debian's image, as the built-in catalog's URL ends. */
const IMAGE_FILE = 'debian-12-genericcloud-amd64.qcow2';
let stateDir = '';
let server: ChildProcess | undefined;
/** The image server's request log, one entry per request. */
const requests: Array<{ method: string; url: string }> = [];

/** The README's example with the lab's paths in place of the user's. */
const LOCAL: Array<[string, () => string]> = [
  ['/var/lib/libvirt/images', poolDir],
  ['~/.ssh/id_ed25519.pub', () => `${KEY}.pub`],
  ['network-config=net.yaml', () => `network-config=${NET_YAML}`],
];

/** The code blocks of the README section, commands one a line (continuations joined, comments dropped). */
function readmeExample(): { yaml: string; commands: string[][] } {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### A VM from a cloud image, end to end'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const sh = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const commands = sh
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean)
    .map((l) => {
      const words = l.split(/\s+/);
      expect(words[0]).toBe('kvmctl');
      return words.slice(1).map((w) => LOCAL.reduce((acc, [from, to]) => (acc === from ? to() : acc.replace(from, to())), w));
    });
  return { yaml, commands };
}

let example: ReturnType<typeof readmeExample>;
/** The README's commands, in order; each test takes the next ones and says which it expects. */
let next = 0;
function step(...expected: string[]): string[] {
  const argv = example.commands[next++] ?? [];
  expect(argv.slice(0, expected.length)).toEqual(expected);
  return argv;
}
let createLine: string[] = [];

// The catalog file, and no proxy from the machine's environment: the server is on the namespace's own loopback.
const ENV = { KVMCTL_CONFIG_DIR: CONFIG, HTTP_PROXY: '', HTTPS_PROXY: '', NO_PROXY: '', http_proxy: '', https_proxy: '', no_proxy: '' };

function run(args: string[]): Promise<RunResult> {
  return start(args, { stateDir, env: ENV }).done;
}

/** Serves the lab's cloud image under Debian's file name from the lab namespace's loopback; returns the server's base URL. */
async function serveCloudImage(): Promise<string> {
  mkdirSync(WWW);
  symlinkSync(lab.cloudImage, join(WWW, IMAGE_FILE));
  server = spawn('ip', ['netns', 'exec', lab.netns, process.execPath, resolve('test/e2e/image-server.mjs'), WWW], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout! });
  const { port } = await new Promise<{ port: number }>((res, rej) => {
    lines.once('line', (l) => res(JSON.parse(l)));
    server!.once('exit', (c) => rej(new Error(`image server exited ${c}`)));
  });
  lines.on('line', (l) => requests.push(JSON.parse(l)));
  return `http://127.0.0.1:${port}`;
}

function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** ssh from inside the lab's namespace, as the image's default user, with the key given to vm create. */
function ssh(ip: string, command: string): string {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.netns, 'ssh', '-i', KEY, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', '-o', 'LogLevel=ERROR', `debian@${ip}`, command],
    { encoding: 'utf8', timeout: 90_000 },
  );
  if (r.status !== 0) throw new Error(`ssh debian@${ip} ${command} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** What makes a guest one instance: cloud-init's instance-id, machine-id, ssh host key, host name, addresses, routes. */
function identity(ip: string) {
  const [instanceId = '', machineId = '', hostKey = '', hostname = ''] = ssh(ip, 'cat /var/lib/cloud/data/instance-id /etc/machine-id /etc/ssh/ssh_host_ed25519_key.pub; hostname').trim().split('\n');
  return { instanceId, machineId, hostKey, hostname, status: ssh(ip, 'cloud-init status --long'), routes: ssh(ip, 'ip route show default'), addrs: ssh(ip, 'ip -br -4 addr') };
}

const sha256 = (file: string) => execFileSync('sha256sum', ['--', file], { encoding: 'utf8' }).split(' ')[0];

function isoFile(iso: string, name: string): string {
  return spawnSync('isoinfo', ['-R', '-x', `/${name}`, '-i', iso], { encoding: 'utf8' }).stdout;
}

const domstate = (name: string) => virsh('domstate', '--domain', name).stdout.trim();
const macOf = (name: string) => /<mac address='([^']+)'/.exec(virsh('dumpxml', '--domain', name).stdout)?.[1];
const state = () => snapshotHost({ dirs: [poolDir()], netns: '' });

function cleanup(): void {
  for (const d of ['web2', 'web1']) {
    virsh('destroy', '--domain', d);
    virsh('undefine', '--domain', d, '--nvram', '--snapshots-metadata');
  }
  virsh('pool-destroy', '--pool', 'images');
  virsh('pool-undefine', '--pool', 'images');
  rmSync(poolDir(), { recursive: true, force: true });
}

beforeAll(async () => {
  // Cached under the lab root; built once (debootstrap from Debian's mirror).
  execFileSync('bash', [LAB_SCRIPT, 'cloud-image'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 });
  stateDir = newStateDir();
  cleanup();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e@kvmctl', '-f', KEY]);
  example = readmeExample();
  writeFileSync(NET_YAML, example.yaml);
  const base = await serveCloudImage();
  mkdirSync(CONFIG);
  writeFileSync(join(CONFIG, 'images.json'), JSON.stringify({ images: [{ name: 'debian-12', description: 'the lab\'s Debian 12 cloud image', url: `${base}/files/${IMAGE_FILE}`, checksum: `sha256:${sha256(lab.cloudImage)}` }] }));
}, 1_600_000);

afterAll(() => {
  server?.kill('SIGTERM');
  cleanup();
  rmSync(work, { recursive: true, force: true });
  removeStateDirs();
});

describe('the README example on a real Debian 12 cloud guest', () => {
  let ip1 = '';
  let web1: ReturnType<typeof identity>;

  it('the README example is what this test runs', () => {
    expect(example.yaml).toMatch(new RegExp(`macaddress: "${MAC}"`));
    expect(example.commands.map((c) => c.slice(0, 3).join(' '))).toEqual([
      `pool create images`,
      'image pull debian-12',
      'vm create web1',
      'vm list',
      'vm log web1',
      'vm stop web1',
      'vm clone web1',
      'vm start web1',
      'vm start web2',
      'vm wait web2',
      'vm stop web2',
      'vm delete web2',
    ]);
  });

  it('pool create, image pull of the catalog name debian-12 from the server, verified', async () => {
    must(await run(step('pool', 'create', 'images')), 'pool create');
    const n = requests.length;
    const pull = must(await run(step('image', 'pull', 'debian-12')), 'image pull');
    expect(pull).toMatch(new RegExp(`^pulled http://127\\.0\\.0\\.1:\\d+/files/${IMAGE_FILE.replace(/\./g, '\\.')} as image images/debian-12\\.qcow2 \\(qcow2, .*verified\\)$`, 'm'));
    expect(requests.slice(n).map((q) => `${q.method} ${q.url}`)).toEqual([`GET /files/${IMAGE_FILE}`]);
    expect(virsh('vol-list', '--pool', 'images').stdout).toContain('debian-12.qcow2');
    expect(sha256(join(poolDir(), 'debian-12.qcow2'))).toBe(sha256(lab.cloudImage));
  }, 300_000);

  it('vm create --ssh-key --hostname --cloud-init network-config --wait ready: ssh works, host name, cloud-init done, network config applied', async () => {
    createLine = step('vm', 'create', 'web1');
    const r = await run(createLine);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vm web1 is ready: cloud-init finished \d+ s after boot \(DataSourceNoCloud\), no problems reported$/m);
    ip1 = r.stdout.trim();
    expect(ip1).toMatch(/^192\.168\.122\.\d+$/);
    // The seed is a read-only virtio disk (the cloud kernel has no AHCI driver for a SATA CD-ROM).
    expect(virsh('dumpxml', '--domain', 'web1').stdout).toMatch(/<disk type='file' device='disk'>\s*<driver name='qemu' type='raw'\/>\s*<source file='[^']*\/web1-seed\.iso'[^>]*>[\s\S]*?<target dev='vdb' bus='virtio'\/>\s*<readonly\/>/);
    web1 = identity(ip1);
    expect(web1.hostname).toBe('web1');
    expect(web1.status).toMatch(/^status: done$/m);
    expect(web1.status).toMatch(/DataSourceNoCloud \[seed=\/dev\/vdb\]/);
    expect(web1.status).not.toMatch(/error|degraded|recoverable/i);
    // net.yaml's route metric: the guest's network config came from the seed, matched to its MAC.
    expect(web1.routes).toMatch(new RegExp(`^default via 192\\.168\\.122\\.1 dev \\S+ proto dhcp src ${ip1.replace(/\./g, '\\.')} metric 50`, 'm'));
    expect(web1.addrs).toContain(`${ip1}/24`);
    expect(macOf('web1')).toBe(MAC);
  }, 900_000);

  it('vm list, vm log show the running guest and its console', async () => {
    const list = must(await run(step('vm', 'list')), 'vm list');
    expect(list).toMatch(/^web1\s+running\b/m);
    expect(list).toContain(ip1);
    const log = must(await run(step('vm', 'log', 'web1')), 'vm log');
    expect(log.trimEnd().split('\n')).toHaveLength(20);
    expect(must(await run(['vm', 'log', 'web1']), 'vm log')).toMatch(/Cloud-init v\. \S+ finished at /);
  });

  it('vm stop shuts the systemd guest down by ACPI within the default timeout; a wait on it then fails at once', async () => {
    const r = await run(step('vm', 'stop', 'web1'));
    expect([r.code, r.stdout]).toEqual([0, 'vm web1 shut down\n']);
    expect(domstate('web1')).toBe('shut off');
    expect(must(await run(['vm', 'log', 'web1']), 'vm log')).toMatch(/reboot: Power down/);
    const before = state();
    for (const target of ['ip', 'ready']) {
      const w = await run(['vm', 'wait', 'web1', '--for', target]);
      expect([w.code, w.stderr]).toEqual([5, expect.stringMatching(/^kvmctl: error: VM "web1" is shutoff \(shutdown\): it cannot (get an address|become ready) until it runs\nhint: start it first: kvmctl (-c '[^']+' )?vm start web1/)]);
    }
    expect(state()).toEqual(before);
  }, 300_000);

  let cloneId = '';
  it('vm clone --linked: a new seed with a new instance-id, the host name web2 and net.yaml on the new MAC', async () => {
    const r = await run(step('vm', 'clone', 'web1', 'web2'));
    expect(r.code).toBe(0);
    cloneId = virsh('domuuid', '--domain', 'web2').stdout.trim();
    expect(r.stdout).toContain(`new cloud-init seed images/web2-seed.iso (instance-id ${cloneId}, hostname web2)`);
    const mac2 = macOf('web2') ?? '';
    expect(mac2).toMatch(/^52:54:00:/);
    expect(mac2).not.toBe(MAC);
    const seed = join(poolDir(), 'web2-seed.iso');
    expect(isoFile(seed, 'meta-data')).toBe(`instance-id: "${cloneId}"\nlocal-hostname: "web2"\n`);
    expect(isoFile(seed, 'user-data')).toBe(isoFile(join(poolDir(), 'web1-seed.iso'), 'user-data').replace('hostname: "web1"', 'hostname: "web2"'));
    expect(isoFile(seed, 'network-config')).toBe(example.yaml.replace(MAC, mac2));
  });

  it('vm start of the linked base is refused (exit 5) naming the clone; nothing changes', async () => {
    const before = state();
    const r = await run(step('vm', 'start', 'web1'));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot start VM "web1": its disk vda is the base image of images\/web2\.qcow2 \(disk of VM web2\); writing to it would corrupt the disks of web2\nhint: start the clone instead, or delete it first \(kvmctl (-c '[^']+' )?vm delete web2 --remove-storage\); --force starts web1 anyway/);
    expect(domstate('web1')).toBe('shut off');
    expect(state()).toEqual(before);
  });

  it('the clone boots as a new instance: new instance-id, host key and address, its own host name', async () => {
    must(await run(step('vm', 'start', 'web2')), 'vm start web2');
    const w = await run(step('vm', 'wait', 'web2', '--for', 'ready'));
    expect(w.code).toBe(0);
    const ip2 = w.stdout.trim();
    expect(ip2).toMatch(/^192\.168\.122\.\d+$/);
    expect(ip2).not.toBe(ip1);
    const web2 = identity(ip2);
    expect(web2.hostname).toBe('web2');
    expect(web2.instanceId).toBe(cloneId);
    expect(web2.instanceId).not.toBe(web1.instanceId);
    // /etc/machine-id stays the source's (cloud-init does not renew it); net.yaml's dhcp-identifier: mac gives the new address.
    expect(web2.hostKey).not.toBe(web1.hostKey);
    expect(web2.status).toMatch(/^status: done$/m);
    expect(web2.routes).toMatch(/ metric 50/);
  }, 900_000);

  it('vm stop and vm delete --remove-storage of the clone', async () => {
    expect((await run(step('vm', 'stop', 'web2'))).code).toBe(0);
    const d = await run(step('vm', 'delete', 'web2'));
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('removed images/web2-seed.iso');
    expect(virsh('vol-list', '--pool', 'images').stdout).not.toContain('web2');
    expect(next).toBe(example.commands.length);
  }, 300_000);

  it('the same vm create again converges: "unchanged", starts the shut-off VM and waits until it is ready', async () => {
    const r = await run(createLine);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vm web1 unchanged \(it exists with this spec\); it was shutoff, started it$/m);
    expect(r.stderr).toMatch(/^vm web1 is ready: cloud-init finished/m);
    expect(r.stdout.trim()).toBe(ip1);
    expect(domstate('web1')).toBe('running');
    expect(identity(ip1).instanceId).toBe(web1.instanceId);
  }, 900_000);
});
