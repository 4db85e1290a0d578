/**
 * The hosts inventory on real files in a temporary folder: `host add|remove|list`,
 * comments kept, refusals of links, FIFOs and bad YAML, and `host list`'s probe
 * replayed from recorded virsh output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryIO } from '../../src/output/io.js';
import { memoryFs } from '../../src/local-fs.js';
import { inventoryPath, selectHosts, loadInventory } from '../../src/inventory/hosts-file.js';
import { virshBatch } from '../../src/libvirt/virsh.js';

const rec = (f: string) => readFileSync(new URL(`../fixtures/recorded/${f}`, import.meta.url), 'utf8');
let dir = '';
let file = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvmctl-inv-'));
  file = join(dir, 'hosts.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function kvmctl(args: string[], runner = new FakeRunner(), env: Record<string, string> = { KVMCTL_HOSTS: file }) {
  const io = memoryIO({ PATH: '/usr/bin', KVMCTL_STATE_DIR: join(dir, 'state'), ...env });
  const code = await main(['node', 'kvmctl', ...args], { io, runner, fs: memoryFs({}), version: '0', signal: new AbortController().signal, argv: [] });
  return { code, out: io.out, err: io.err, runner };
}

describe('where the inventory lives', () => {
  it('KVMCTL_HOSTS, else XDG_CONFIG_HOME, else ~/.config', () => {
    expect(inventoryPath({ KVMCTL_HOSTS: '/x/h.yaml', XDG_CONFIG_HOME: '/c' })).toBe('/x/h.yaml');
    expect(inventoryPath({ XDG_CONFIG_HOME: '/c' })).toBe('/c/kvmctl/hosts.yaml');
    expect(inventoryPath({ HOME: '/home/ops' })).toBe('/home/ops/.config/kvmctl/hosts.yaml');
  });
});

describe('host add / remove', () => {
  it('creates the file, keeps the comments and order a person wrote, and is idempotent', async () => {
    writeFileSync(file, '# fleet of rack A\nhosts:\n  # oldest\n  kvm0:\n    uri: qemu+ssh://root@kvm0/system\n');
    const a = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+tcp://10.0.0.11/system', '--label', 'rack=a1', '--label', 'disk=ssd', '--migration-address', '10.0.0.11', '--group', 'web']);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toBe(`host kvm1 added to ${file}\n`);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# fleet of rack A\nhosts:\n  # oldest\n  kvm0:/);
    const inv = await loadInventory(file);
    expect(inv.hosts).toEqual([
      { name: 'kvm0', uri: 'qemu+ssh://root@kvm0/system', labels: {}, migrationAddress: undefined, groups: [] },
      { name: 'kvm1', uri: 'qemu+tcp://10.0.0.11/system', labels: { rack: 'a1', disk: 'ssd' }, migrationAddress: '10.0.0.11', groups: ['web'] },
    ]);
    const again = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+tcp://10.0.0.11/system', '--label', 'disk=ssd', '--label', 'rack=a1', '--migration-address', '10.0.0.11', '--group', 'web']);
    expect(again.code).toBe(0);
    expect(again.out).toBe('host kvm1 unchanged\n');
    expect(readFileSync(file, 'utf8')).toBe(text);
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f !== 'state')).toEqual(['hosts.yaml']);
  });

  it('another spec for a known name is exit 4 and changes nothing', async () => {
    await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system']);
    const before = readFileSync(file, 'utf8');
    const r = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm9/system']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/host kvm1 is already in .* with uri qemu\+ssh:\/\/root@kvm1\/system \(not qemu\+ssh:\/\/root@kvm9\/system\)/);
    expect(r.err).toMatch(/hint: remove it first \(kvmctl host remove kvm1\)/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('remove takes the host out of its groups; an unknown host is exit 3', async () => {
    await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system', '--group', 'web', '--group', 'db']);
    await kvmctl(['host', 'add', 'kvm2', '--uri', 'qemu+ssh://root@kvm2/system', '--group', 'web']);
    const r = await kvmctl(['host', 'remove', 'kvm1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/host kvm1 removed from .* \(nothing on the host was changed\)/);
    const inv = await loadInventory(file);
    expect(inv.hosts.map((h) => h.name)).toEqual(['kvm2']);
    expect(inv.groups).toEqual({ web: ['kvm2'], db: [] });
    const before = readFileSync(file, 'utf8');
    const missing = await kvmctl(['host', 'remove', 'kvm1']);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/host kvm1 is not in /);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('--dry-run writes nothing', async () => {
    const r = await kvmctl(['--dry-run', 'host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/would be added/);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    [['host', 'add', '../etc', '--uri', 'qemu:///system'], /invalid host name "\.\.\/etc"/],
    [['host', 'add', 'all', '--uri', 'qemu:///system'], /'all' means every host/],
    [['host', 'add', 'a;b', '--uri', 'qemu:///system'], /invalid host name "a;b"/],
    [['host', 'add', 'ok', '--uri', 'not a uri'], /malformed libvirt URI "not a uri"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--label', 'rack'], /invalid label "rack"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--label', 'r=\u001b[31m'], /invalid label/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', '1.2.3.4;reboot'], /invalid migration address/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--group', '@web'], /invalid host name "@web"/],
  ])('%j is exit 2 and writes nothing', async (args, message) => {
    const r = await kvmctl(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
    expect(existsSync(file)).toBe(false);
  });
});

describe('files kvmctl will not read or replace', () => {
  it('a symbolic link, a FIFO and a directory are refused (exit 5) and left as they are', async () => {
    const target = join(dir, 'elsewhere.yaml');
    writeFileSync(target, 'hosts: {}\n');
    symlinkSync(target, file);
    const r = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu:///system']);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/hosts inventory .*hosts\.yaml is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('hosts: {}\n');
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const f = await kvmctl(['host', 'list', '--no-probe'], undefined, { KVMCTL_HOSTS: fifo });
    expect(f.code).toBe(5);
    expect(f.err).toMatch(/fifo\.yaml is not a regular file/);
    const d = await kvmctl(['host', 'list', '--no-probe'], undefined, { KVMCTL_HOSTS: dir });
    expect(d.code).toBe(5);
    expect(d.err).toMatch(/is a directory/);
  });

  it('invalid YAML or an invalid inventory is exit 2 with the line or the entry', async () => {
    writeFileSync(file, 'hosts:\n  kvm1:\n    uri: qemu:///system\n   bad: [\n');
    const r = await kvmctl(['host', 'list', '--no-probe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not valid YAML at line \d+, column \d+/);
    writeFileSync(file, 'hosts:\n  kvm1:\n    uri: qemu:///system\ngroups:\n  web: [kvm1, kvm7]\n');
    const g = await kvmctl(['host', 'list', '--no-probe']);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/group web names host "kvm7", which is not under hosts:/);
    writeFileSync(file, 'hosts:\n  kvm1:\n    uri: qemu:///system\n    url: typo\n');
    expect((await kvmctl(['host', 'list', '--no-probe'])).err).toMatch(/host kvm1: unknown key "url"/);
    writeFileSync(file, 'a: &x [*x]\n');
    expect((await kvmctl(['host', 'list', '--no-probe'])).code).toBe(2);
  });
});

describe('host list', () => {
  const URI1 = 'qemu+unix:///system?socket=/run/a/libvirt-sock';
  const URI2 = 'qemu+unix:///system?socket=/run/gone/libvirt-sock';
  const probe = (uri: string) => virshBatch(uri, [['version', '--daemon'], ['nodecpustats', '--percent'], ['nodememstats']]);
  const SEP = 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n';

  it('asks every host once (one virsh each, with the host timeout) and shows who answers', async () => {
    writeFileSync(file, `hosts:\n  a:\n    uri: "${URI1}"\n    labels: {rack: a1}\n  gone:\n    uri: "${URI2}"\ngroups:\n  web: [a, gone]\n`);
    const runner = new FakeRunner()
      .stub([probe(URI1).program, ...probe(URI1).args], { stdout: rec('virsh-version-daemon.txt') + SEP + rec('virsh-nodecpustats-percent.txt') + SEP + rec('virsh-nodememstats.txt') })
      .stub([probe(URI2).program, ...probe(URI2).args], { exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') });
    const r = await kvmctl(['host', 'list', '-o', 'json', '--host-timeout', '3'], runner);
    expect(r.code).toBe(0);
    const hosts = JSON.parse(r.out);
    expect(hosts[0]).toMatchObject({ name: 'a', answers: true, libvirtVersion: '9.0.0', labels: { rack: 'a1' }, groups: ['web'] });
    expect(typeof hosts[0].cpuUsedPercent).toBe('number');
    expect(hosts[0].memoryFreeBytes).toBeGreaterThan(0);
    expect(hosts[1]).toMatchObject({ name: 'gone', answers: false, error: expect.stringMatching(/Failed to connect socket/) });
    expect(runner.calls).toHaveLength(2);
    expect(runner.calls.every((c) => c.timeoutMs === 3000)).toBe(true);
  });

  it('bad --parallel and --host-timeout are exit 2 before any host is asked', async () => {
    writeFileSync(file, `hosts:\n  a:\n    uri: "${URI1}"\n`);
    for (const args of [['--parallel', '0'], ['--parallel', '1e3'], ['--host-timeout', '-1'], ['--host-timeout', 'x']]) {
      const r = await kvmctl(['host', 'list', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/invalid --(parallel|host-timeout)/);
      expect(r.runner.calls).toEqual([]);
    }
  });

  it('selects hosts by name, @group and all; an unknown one is exit 3', async () => {
    writeFileSync(file, `hosts:\n  a: {uri: "${URI1}"}\n  b: {uri: "${URI2}"}\ngroups:\n  web: [b]\n`);
    const inv = await loadInventory(file);
    expect(selectHosts(inv, ['all']).map((h) => h.name)).toEqual(['a', 'b']);
    expect(selectHosts(inv, ['@web', 'b']).map((h) => h.name)).toEqual(['b']);
    expect(() => selectHosts(inv, ['zz'])).toThrow(/no host "zz"/);
    expect(() => selectHosts(inv, ['@nope'])).toThrow(/no group "nope"/);
  });
});
