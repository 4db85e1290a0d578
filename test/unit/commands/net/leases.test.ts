/** kvmctl net leases over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDhcpLeases } from '../../../../src/libvirt/network-commands.js';
import { recorded, runKvmctl, stubBatch } from '../../../support/harness.js';
import { stubLoadDomains, stubLoadNetwork, stubLoadNetworks } from '../../../support/net.js';

const LEASE_EXPIRY = /^ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(recorded('net/virsh-net-dhcp-leases-fxn-nat.txt'))?.[1] ?? '';
/** virsh prints the expiry in local time. */
const leaseExpiryIso = new Date(LEASE_EXPIRY.replace(' ', 'T')).toISOString();

describe('net leases', () => {
  it('lists the leases of every network with the VM that owns each MAC: four virsh calls', async () => {
    const runner = stubLoadDomains(stubLoadNetworks(new FakeRunner(), { leases: true }));
    const r = await runKvmctl(['net', 'leases', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    // default's lease belongs to a VM undefined since (see the README): no VM owns its MAC.
    const defaultLease = parseDhcpLeases(recorded('net/virsh-net-dhcp-leases-default.txt'))[0];
    expect(parseOutput(['net', 'leases'], r.out)).toEqual([
      {
        address: defaultLease!.ip,
        prefix: defaultLease!.prefix,
        mac: defaultLease!.mac,
        source: 'lease',
        hostname: defaultLease!.hostname ?? null,
        expiresAt: defaultLease!.expiryTime,
        family: 'ipv4',
        clientId: defaultLease!.clientId ?? null,
        network: 'default',
        vm: null,
      },
      { address: '10.213.0.227', prefix: 24, mac: '52:54:00:f0:00:01', source: 'lease', hostname: 'fxn-vm1', expiresAt: leaseExpiryIso, family: 'ipv4', clientId: '01:52:54:00:f0:00:01', network: 'fxn-nat', vm: 'fxn-vm1' },
    ]);
    expect(r.runner.calls).toHaveLength(4);
    r.runner.verify();
  });

  it('makes the same number of calls for 1 network and for 300', async () => {
    for (const count of [1, 300]) {
      const names = Array.from({ length: count }, (_, i) => `n${i}`);
      const runner = new FakeRunner();
      stubBatch(runner, [['net-list', '--all']], [[' Name   State    Autostart   Persistent', '-----', ...names.map((n) => ` ${n}   active   yes   yes`)].join('\n')]);
      stubBatch(
        runner,
        names.flatMap((n) => [['net-dumpxml', '--network', n], ['net-dhcp-leases', '--network', n]]),
        names.flatMap((n) => [recorded('net/virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), recorded('net/virsh-net-dhcp-leases-fxn-nat.txt')]),
      );
      const r = await runKvmctl(['net', 'leases', '-o', 'json'], stubLoadDomains(runner));
      expect(parseOutput(['net', 'leases'], r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(4);
    }
  });

  it('of one network, as a table', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-nat', { leases: true }));
    const r = await runKvmctl(['net', 'leases', 'fxn-nat'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NETWORK\s+MAC\s+IP\s+HOSTNAME\s+EXPIRES\s+VM\n/);
    expect(r.out).toMatch(/fxn-nat\s+52:54:00:f0:00:01\s+10\.213\.0\.227\/24\s+fxn-vm1\s+\S+Z\s+fxn-vm1\n/);
    expect(r.runner.calls).toHaveLength(3);
  });

  it('an unknown network is exit 3', async () => {
    const runner = new FakeRunner();
    stubBatch(
      runner,
      [['net-info', '--network', 'nosuch'], ['net-dumpxml', '--network', 'nosuch'], ['net-dhcp-leases', '--network', 'nosuch']],
      ['', '', ''],
      recorded('net/err-virsh-net-dhcp-leases-nosuch.stderr'),
    );
    const r = await runKvmctl(['net', 'leases', 'nosuch'], runner);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`kvmctl: error: network "nosuch" not found (Network not found: no network with matching name 'nosuch')\nhint: list what exists with: kvmctl net list\n`);
  });
});
