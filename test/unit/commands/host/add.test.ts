/** `host add` and `host remove` on real inventory files: comments and order kept, links, FIFOs and bad YAML refused. */
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../../../src/inventory/hosts-file.js';
import { folder, kvmctl } from './inventory-folder.js';
import { parseOutput } from '../../../support/schemas.js';

describe('host add / remove', () => {
  it('creates the file, keeps the comments and order a person wrote, and is idempotent', async () => {
    writeFileSync(folder.file, '# fleet of rack A\nhosts:\n  # oldest\n  kvm0:\n    uri: qemu+ssh://root@kvm0/system\n');
    const a = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+tcp://10.0.0.11/system', '--label', 'rack=a1', '--label', 'disk=ssd', '--migration-address', '10.0.0.11', '--group', 'web']);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toBe(`host kvm1 added to ${folder.file}\n`);
    const text = readFileSync(folder.file, 'utf8');
    expect(text).toMatch(/^# fleet of rack A\nhosts:\n  # oldest\n  kvm0:/);
    const inv = await loadInventory(folder.file);
    expect(inv.hosts).toEqual([
      { name: 'kvm0', uri: 'qemu+ssh://root@kvm0/system', labels: {}, migrationAddress: undefined, groups: [] },
      { name: 'kvm1', uri: 'qemu+tcp://10.0.0.11/system', labels: { rack: 'a1', disk: 'ssd' }, migrationAddress: '10.0.0.11', groups: ['web'] },
    ]);
    const again = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+tcp://10.0.0.11/system', '--label', 'disk=ssd', '--label', 'rack=a1', '--migration-address', '10.0.0.11', '--group', 'web']);
    expect(again.code).toBe(0);
    expect(again.out).toBe('host kvm1 unchanged\n');
    expect(readFileSync(folder.file, 'utf8')).toBe(text);
    // A group left out is a difference, as a label left out is: exit 4 naming it, the file as it was.
    const noGroup = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+tcp://10.0.0.11/system', '--label', 'disk=ssd', '--label', 'rack=a1', '--migration-address', '10.0.0.11']);
    expect(noGroup.code).toBe(4);
    expect(noGroup.err).toMatch(/host kvm1 is already in .* with groups web/);
    expect(readFileSync(folder.file, 'utf8')).toBe(text);
    // No temporary file is left beside it.
    expect(readdirSync(folder.dir).filter((f) => f !== 'state')).toEqual(['hosts.yaml']);
  });

  it('-o json: changed and the host as the inventory has it, for add, an unchanged add and remove', async () => {
    const host = { name: 'kvm2', uri: 'qemu+ssh://root@kvm2/system', groups: ['web'], labels: { rack: 'b1' }, migrationAddress: null };
    const args = ['host', 'add', 'kvm2', '--uri', host.uri, '--label', 'rack=b1', '--group', 'web', '-o', 'json'];
    expect(parseOutput(args, (await kvmctl(args)).out)).toEqual({ changed: true, ...host });
    expect(parseOutput(args, (await kvmctl(args)).out)).toEqual({ changed: false, ...host });
    const removed = await kvmctl(['host', 'remove', 'kvm2', '-o', 'json']);
    expect(parseOutput(['host', 'remove'], removed.out)).toEqual({ changed: true, ...host });
  });

  it('another spec for a known name is exit 4 and changes nothing', async () => {
    await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system']);
    const before = readFileSync(folder.file, 'utf8');
    const r = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm9/system']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/host kvm1 is already in .* with uri qemu\+ssh:\/\/root@kvm1\/system \(not qemu\+ssh:\/\/root@kvm9\/system\)/);
    expect(r.err).toMatch(/hint: remove it first \(kvmctl host remove kvm1\)/);
    expect(readFileSync(folder.file, 'utf8')).toBe(before);
  });

  it('remove takes the host out of its groups; an unknown host is exit 3', async () => {
    await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system', '--group', 'web', '--group', 'db']);
    await kvmctl(['host', 'add', 'kvm2', '--uri', 'qemu+ssh://root@kvm2/system', '--group', 'web']);
    const r = await kvmctl(['host', 'remove', 'kvm1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/host kvm1 removed from .* \(nothing on the host was changed\)/);
    const inv = await loadInventory(folder.file);
    expect(inv.hosts.map((h) => h.name)).toEqual(['kvm2']);
    expect(inv.groups).toEqual({ web: ['kvm2'], db: [] });
    const before = readFileSync(folder.file, 'utf8');
    const missing = await kvmctl(['host', 'remove', 'kvm1']);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/host kvm1 is not in /);
    expect(readFileSync(folder.file, 'utf8')).toBe(before);
  });

  it('--dry-run writes nothing', async () => {
    const r = await kvmctl(['--dry-run', 'host', 'add', 'kvm1', '--uri', 'qemu+ssh://root@kvm1/system']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/would be added/);
    expect(existsSync(folder.file)).toBe(false);
  });

  it.each([
    [['host', 'add', '../etc', '--uri', 'qemu:///system'], /invalid host name "\.\.\/etc"/],
    [['host', 'add', 'all', '--uri', 'qemu:///system'], /'all' means every host/],
    [['host', 'add', 'a;b', '--uri', 'qemu:///system'], /invalid host name "a;b"/],
    [['host', 'add', 'ok', '--uri', 'not a uri'], /malformed libvirt URI "not a uri"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--label', 'rack'], /invalid label "rack"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--label', 'r=\u001b[31m'], /invalid label/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', '1.2.3.4;reboot'], /invalid migration address/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', '10.0.0.256'], /invalid migration address "10\.0\.0\.256": not an IPv4 or IPv6 address or a host name/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', 'fd00:::1'], /invalid migration address "fd00:::1"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', 'kvm1..lan'], /invalid migration address "kvm1\.\.lan"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--migration-address', 'kvm1-.lan'], /invalid migration address "kvm1-\.lan"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--group', '@web'], /invalid group name "@web"/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system', '--group', 'all'], /invalid group name "all": 'all' means every host/],
    [['host', 'add', 'auto', '--uri', 'qemu:///system'], /invalid host name "auto": 'auto' means placement \(vm create --host auto\)/],
    [['host', 'add', 'ok', '--uri', 'qemu+ssh://'], /malformed libvirt URI "qemu\+ssh:\/\/": the path is "", where qemu has \/system or \/session/],
    [['host', 'add', 'ok', '--uri', 'qemu:///system;ls'], /malformed libvirt URI "qemu:\/\/\/system;ls": the path is "\/system;ls"/],
    [['host', 'add', 'ok', '--uri', 'http://example.com/'], /malformed libvirt URI "http:\/\/example\.com\/": the driver is "http", not qemu/],
    [['host', 'add', 'ok', '--uri', 'qemu+foo://h/system'], /libvirt has no transport "foo"/],
    [['host', 'add', 'ok', '--uri', 'qemu+tcp://h:99999/system'], /port 99999 is not 1 to 65535/],
  ])('%j is exit 2 and writes nothing', async (args, message) => {
    const r = await kvmctl(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
    expect(existsSync(folder.file)).toBe(false);
  });
});

describe('files kvmctl will not read or replace', () => {
  it('a symbolic link, a FIFO and a directory are refused (exit 5) and left as they are', async () => {
    const target = join(folder.dir, 'elsewhere.yaml');
    writeFileSync(target, 'hosts: {}\n');
    symlinkSync(target, folder.file);
    const r = await kvmctl(['host', 'add', 'kvm1', '--uri', 'qemu:///system']);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/hosts inventory .*hosts\.yaml is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('hosts: {}\n');
    const fifo = join(folder.dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const f = await kvmctl(['host', 'list', '--no-probe'], undefined, { KVMCTL_HOSTS: fifo });
    expect(f.code).toBe(5);
    expect(f.err).toMatch(/fifo\.yaml is not a regular file/);
    const d = await kvmctl(['host', 'list', '--no-probe'], undefined, { KVMCTL_HOSTS: folder.dir });
    expect(d.code).toBe(5);
    expect(d.err).toMatch(/is a directory/);
  });

  it('invalid YAML or an invalid inventory is exit 2 with the line or the entry', async () => {
    writeFileSync(folder.file, 'hosts:\n  kvm1:\n    uri: qemu:///system\n   bad: [\n');
    const r = await kvmctl(['host', 'list', '--no-probe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not valid YAML at line \d+, column \d+/);
    writeFileSync(folder.file, 'hosts:\n  kvm1:\n    uri: qemu:///system\ngroups:\n  web: [kvm1, kvm7]\n');
    const g = await kvmctl(['host', 'list', '--no-probe']);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/group web names host "kvm7", which is not under hosts:/);
    writeFileSync(folder.file, 'hosts:\n  kvm1:\n    uri: qemu:///system\n    url: typo\n');
    expect((await kvmctl(['host', 'list', '--no-probe'])).err).toMatch(/host kvm1: unknown key "url"/);
    writeFileSync(folder.file, 'a: &x [*x]\n');
    expect((await kvmctl(['host', 'list', '--no-probe'])).code).toBe(2);
  });
});
