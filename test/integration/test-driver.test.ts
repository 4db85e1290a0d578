/**
 * The built CLI against libvirt's test driver (https://libvirt.org/drvtest.html):
 * real virsh, real libvirt parsers and error messages, no daemon and no root.
 * Each virsh process starts from the same host again, so a test asserts what one
 * kvmctl command reads and prints, and what it sends to libvirt (-v, --dry-run),
 * never a change seen by a later command; that is the e2e lab's job.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonError } from '../support/schemas.js';
import { DEFAULT_URI, HOST_URI, json, kvmctl, mutatingCalls } from './kvmctl.js';

interface VmRow {
  name: string;
  state: string;
  autostart: boolean;
}

describe('reads of test:///default', () => {
  it('vm list: the one running domain, as a table and as JSON', () => {
    const table = kvmctl(DEFAULT_URI, 'vm', 'list');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+STATE\s+VCPUS\s+MEMORY\s+AUTOSTART\s+IPS\s+DISKS\s+DISK SIZE$/);
    expect(table.out).toMatch(/^test\s+running\s/m);
    expect(json<VmRow[]>(DEFAULT_URI, 'vm', 'list').map((v) => [v.name, v.state, v.autostart])).toEqual([['test', 'running', false]]);
  });

  it('vm info: vCPUs, memory and the disk from the driver\'s domain XML', () => {
    const info = json<{ name: string; vcpus: number; memoryBytes: number; maxMemoryBytes: number; disks: Array<{ target: string; source: string }> }>(DEFAULT_URI, 'vm', 'info', 'test');
    expect(info).toMatchObject({ name: 'test', vcpus: 2, memoryBytes: 2 * 1024 ** 3, maxMemoryBytes: 8 * 1024 ** 3 });
    expect(info.disks.map((d) => [d.target, d.source])).toEqual([['vda', '/guest/diskimage1']]);
  });

  it('vm ip: the address the driver leases to the domain\'s NIC', () => {
    expect(kvmctl(DEFAULT_URI, 'vm', 'ip', 'test')).toMatchObject({ code: 0, out: '192.168.122.3\n' });
  });

  it('pool list and net list: the default pool and NAT network', () => {
    expect(json<Array<Record<string, unknown>>>(DEFAULT_URI, 'pool', 'list')).toEqual([
      expect.objectContaining({ name: 'default-pool', type: 'dir', state: 'active', targetPath: '/default-pool', capacityBytes: 100 * 1024 ** 3, volumeCount: 0 }),
    ]);
    expect(json<Array<Record<string, unknown>>>(DEFAULT_URI, 'net', 'list')).toEqual([
      expect.objectContaining({ name: 'default', mode: 'nat', bridge: 'virbr0', subnet: '192.168.122.0/24', dhcpRange: { start: '192.168.122.2', end: '192.168.122.254' } }),
    ]);
  });

  it('volume list: an empty pool says so (on stderr, stdout stays empty) and exits 0', () => {
    expect(kvmctl(DEFAULT_URI, 'volume', 'list')).toEqual({ code: 0, out: '', err: 'no volumes in any active pool\n' });
  });

  it.each([
    [['vm', 'info', 'nosuch'], 'vm', /^VM "nosuch" not found \(failed to get domain 'nosuch'\)$/, 'list what exists with: kvmctl -c test:///default vm list'],
    [['pool', 'info', 'nosuch'], 'pool', /^storage pool "nosuch" not found/, 'list the pools with: kvmctl -c test:///default pool list'],
  ])('%j: libvirt\'s own not-found is exit 3 naming the object, with a shell-safe hint', (args, kind, message, hint) => {
    const r = kvmctl(DEFAULT_URI, '-o', 'json', ...args);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    const { error } = parseJsonError(r.err);
    expect(error).toMatchObject({ code: 'not-found', exit: 3, hint, object: { kind, name: 'nosuch' } });
    expect(error.message).toMatch(message);
  });
});

describe('reads of a host of our own (fixtures/host.xml)', () => {
  it('vm list: both domains, sorted, with their states', () => {
    expect(json<VmRow[]>(HOST_URI, 'vm', 'list').map((v) => [v.name, v.state])).toEqual([
      ['db1', 'shutoff'],
      ['web1', 'running'],
    ]);
  });

  it('volume list: each volume with the VM that uses it (volumes joined with every domain\'s disks)', () => {
    const r = kvmctl(HOST_URI, 'volume', 'list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^images\s+db1\.raw\s+raw\s+2\.0 GiB\s+2\.0 GiB\s+-\s+db1 \(shutoff, vda\)$/m);
    expect(r.out).toMatch(/^images\s+web1\.qcow2\s+qcow2\s+10\.0 GiB\s+1\.0 GiB\s+-\s+web1 \(running, vda\)$/m);
  });

  it('net info: the static DHCP host is matched to the VM that has its MAC', () => {
    const r = kvmctl(HOST_URI, 'net', 'info', 'lab');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Subnet\s+10\.9\.0\.0\/24$/m);
    expect(r.out).toMatch(/^52:54:00:f1:00:31\s+10\.9\.0\.10\s+-\s+web1$/m);
  });

  it('vm info: the NIC with its network and MAC, the disk with its format', () => {
    const info = json<{ nics: Array<{ type: string; source: string; mac: string }>; disks: Array<{ target: string; format: string; source: string }> }>(HOST_URI, 'vm', 'info', 'web1');
    expect(info.nics).toEqual([expect.objectContaining({ type: 'network', source: 'lab', mac: '52:54:00:f1:00:31' })]);
    expect(info.disks).toEqual([expect.objectContaining({ target: 'vda', format: 'qcow2', source: '/pools/images/web1.qcow2' })]);
  });
});

describe('changes: what one command sends to libvirt, and what it refuses', () => {
  it('vm destroy: one destroy call, exit 0', () => {
    const r = kvmctl(DEFAULT_URI, '-v', 'vm', 'destroy', 'test');
    expect(r.code).toBe(0);
    expect(r.out).toBe('vm test powered off (destroyed; its disks and definition are kept)\n');
    expect(mutatingCalls(r.err)).toEqual(['+ virsh -c test:///default destroy --domain test']);
  });

  it('vm start of a running domain: unchanged, exit 0, no start call', () => {
    const r = kvmctl(DEFAULT_URI, '-v', 'vm', 'start', 'test');
    expect(r).toMatchObject({ code: 0, out: 'vm test unchanged (already running)\n' });
    expect(mutatingCalls(r.err)).toEqual([]);
  });

  it('--dry-run vm destroy: prints the call it skips and says nothing was changed', () => {
    const r = kvmctl(DEFAULT_URI, '--dry-run', 'vm', 'destroy', 'test');
    expect(r).toEqual({
      code: 0,
      out: 'vm test powered off (destroyed; its disks and definition are kept) (dry run: nothing was changed)\n',
      err: '[dry-run] would run: virsh -c test:///default destroy --domain test\n',
    });
  });

  it('vm delete of a running domain: exit 5 naming the VM and what to do, and no call that changes anything', () => {
    const r = kvmctl(DEFAULT_URI, '-v', 'vm', 'delete', 'test');
    expect(r.code).toBe(5);
    expect(r.err).toContain('kvmctl: error: VM "test" is running; it was left unchanged');
    expect(r.err).toContain('hint: stop it first (kvmctl -c test:///default vm stop test), or add --force to power it off and delete it');
    expect(mutatingCalls(r.err)).toEqual([]);
  });

  it('vm clone: libvirt defines the XML kvmctl wrote from the source\'s, which keeps its order, with a new name, uuid, disk and MAC', () => {
    const source = kvmctl(HOST_URI, 'vm', 'xml', 'db1', '--inactive');
    expect(source.code).toBe(0);
    const dry = kvmctl(HOST_URI, '--dry-run', 'vm', 'clone', 'db1', 'db2');
    expect(dry.code).toBe(0);
    const defined = /would run: virsh -c \S+ define --file \/dev\/stdin\n\[dry-run\] with input:\n(<domain[\s\S]*?<\/domain>\n)/.exec(dry.err)?.[1];
    expect(defined).toBeDefined();
    const tags = (xml: string) => [...xml.matchAll(/<([A-Za-z_][\w:.-]*)/g)].map((m) => m[1]);
    // The clone leaves out the source's host-side NIC name (<target dev='testnet0'/>): libvirt assigns one.
    expect(tags(defined as string)).toEqual(tags(source.out.replace(/\n\s*<target dev='testnet\d+'\/>/, '')));
    expect(defined).toMatch(/<name>db2<\/name>/);
    expect(defined).toContain('<source file="/pools/images/db2.img"/>');
    expect(defined).not.toContain('4a1c2b3d-0000-4000-8000-000000000002');
    expect(defined).not.toContain('52:54:00:f1:00:32');

    const real = kvmctl(HOST_URI, '-v', 'vm', 'clone', 'db1', 'db2');
    expect(real.code).toBe(0);
    expect(real.out).toBe('vm db2 cloned from db1: images/db2.img (copy of images/db1.raw)\n');
    expect(mutatingCalls(real.err).map((l) => l.replace(/^\+ virsh -c \S+ /, ''))).toEqual([
      'vol-create-from --pool images --file /dev/stdin --inputpool images --vol db1.raw',
      'define --file /dev/stdin',
    ]);
  });

  it('net reserve: one net-update with the host entry; a taken MAC is exit 4 naming the reservation, and no update', () => {
    const ok = kvmctl(HOST_URI, '-v', 'net', 'reserve', 'lab', '--mac', '52:54:00:f1:00:40', '--ip', '10.9.0.11', '--hostname', 'db2');
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('reserved 10.9.0.11 for 52:54:00:f1:00:40 on network lab; the next DHCP request of that MAC gets it\n');
    expect(mutatingCalls(ok.err).map((l) => l.replace(/^\+ virsh -c \S+ /, ''))).toEqual([
      `net-update --network lab --command add-last --section ip-dhcp-host --xml '<host mac="52:54:00:f1:00:40" name="db2" ip="10.9.0.11"/>' --live --config`,
    ]);

    const taken = kvmctl(HOST_URI, '-v', 'net', 'reserve', 'lab', '--mac', '52:54:00:f1:00:31', '--ip', '10.9.0.11');
    expect(taken.code).toBe(4);
    expect(taken.err).toContain('kvmctl: error: network lab already has a reservation 52:54:00:f1:00:31 -> 10.9.0.10');
    expect(taken.err).toContain(`hint: remove it first: kvmctl -c ${HOST_URI} net unreserve lab --mac 52:54:00:f1:00:31`);
    expect(mutatingCalls(taken.err)).toEqual([]);
  });

  it('net reserve --hostname takes one DNS label: a dotted or odd name is exit 2 before any virsh call', () => {
    for (const name of ['web_2', 'db2.lab']) {
      const r = kvmctl(HOST_URI, '-v', 'net', 'reserve', 'lab', '--mac', '52:54:00:f1:00:40', '--ip', '10.9.0.11', '--hostname', name);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`kvmctl: error: invalid --hostname ${JSON.stringify(name)}`);
      expect(r.err).toContain('hint: use one DNS label: letters, digits and -, at most 63 characters');
      expect(r.err).not.toContain('+ virsh');
    }
  });

  it('vm set: a step libvirt refuses is undone, exit 7 (the second setvcpus runs in a fresh process, where the maximum is 1 again)', () => {
    const r = kvmctl(HOST_URI, '-v', 'vm', 'set', 'db1', '--vcpus', '2');
    expect(r.code).toBe(7);
    expect(r.err).toContain('kvmctl: error: vm set db1 failed: VM "db1": virsh setvcpus failed: invalid argument: requested cpu amount exceeds maximum (2 > 1); everything it had done was undone');
    expect(mutatingCalls(r.err).map((l) => l.replace(/^\+ virsh -c \S+ /, ''))).toEqual([
      'setvcpus --domain db1 --count 2 --maximum --config',
      'setvcpus --domain db1 --count 2 --config',
      // Only the step that ran is undone: the refused one changed nothing.
      'setvcpus --domain db1 --count 1 --maximum --config',
    ]);
  });
});
