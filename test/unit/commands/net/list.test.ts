/** kvmctl net list over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { loadNetworks } from '../../../../src/libvirt/network-commands.js';
import { recorded, runKvmctl, stubBatch, URI, tableLines } from '../../../support/harness.js';
import { LAB_NETWORKS, stubLoadNetworks } from '../../../support/net.js';

describe('net list', () => {
  it('shows every network with mode, bridge, subnet, DHCP range and lease count', async () => {
    const r = await runKvmctl(['net', 'list'], stubLoadNetworks(new FakeRunner(), { leases: true }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tableLines(r.out)).toEqual([
      'NAME STATE AUTOSTART PERSISTENT MODE BRIDGE SUBNET DHCP LEASES',
      'default active yes yes nat virbr0 192.168.122.0/24 192.168.122.2-192.168.122.254 1',
      'fxn-br active no yes bridge fxbr0 - - 0',
      'fxn-iso inactive no yes isolated virbr3 10.215.0.0/24 - 0',
      'fxn-nat active yes yes nat virbr1 10.213.0.0/24 10.213.0.2-10.213.0.254 1',
      'fxn-route active no yes route virbr2 10.214.0.0/24 10.214.0.100-10.214.0.199 0',
      '',
    ]);
    r.runner.verify();
  });

  it('-o json gives camelCase objects', async () => {
    const r = await runKvmctl(['net', 'list', '-o', 'json'], stubLoadNetworks(new FakeRunner(), { leases: true }));
    const nat = parseOutput(['net', 'list'], r.out).find((n: { name: string }) => n.name === 'fxn-nat');
    expect(nat).toEqual({
      name: 'fxn-nat',
      state: 'active',
      active: true,
      autostart: true,
      persistent: true,
      mode: 'nat',
      bridge: 'virbr1',
      subnet: '10.213.0.0/24',
      gateway: '10.213.0.1',
      dhcpRange: { start: '10.213.0.2', end: '10.213.0.254' },
      leaseCount: 1,
    });
  });

  it('makes two virsh calls for 1 network and for 300', async () => {
    for (const count of [1, 300]) {
      const names = Array.from({ length: count }, (_, i) => `n${i}`);
      const runner = new FakeRunner();
      const list = [' Name   State    Autostart   Persistent', '-----', ...names.map((n) => ` ${n}   active   yes   yes`)].join('\n');
      stubBatch(runner, [['net-list', '--all']], [list]);
      stubBatch(
        runner,
        names.flatMap((n) => [['net-dumpxml', '--network', n], ['net-dhcp-leases', '--network', n]]),
        names.flatMap((n) => [recorded('net/virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), recorded('net/virsh-net-dhcp-leases-fxn-nat.txt')]),
      );
      const r = await runKvmctl(['net', 'list', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      expect(parseOutput(['net', 'list'], r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(2);
    }
  });

  it('an unreachable libvirt is exit 5 naming the URI', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['net-list', '--all']], [''], "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n");
    const r = await runKvmctl(['net', 'list'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain(`cannot reach libvirt at ${URI}`);
  });

  it('loadNetworks skips a network removed between its two calls', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['net-list', '--all']], [recorded('net/virsh-net-list-all.txt')]);
    stubBatch(runner, LAB_NETWORKS.map((n) => ['net-dumpxml', '--network', n]), LAB_NETWORKS.map((n) => (n === 'fxn-iso' ? '' : recorded(`net/virsh-net-dumpxml-${n}.xml`))));
    expect((await loadNetworks(runner, URI, { leases: false })).map((n) => n.name)).toEqual(['default', 'fxn-br', 'fxn-nat', 'fxn-route']);
  });
});
