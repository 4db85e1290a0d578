/** kvmctl net reserve over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runKvmctl, virshArgv as virsh } from '../../../support/harness.js';
import { stubLoadDomains, recordedNetwork as net } from '../../../support/net.js';

describe('net reserve', () => {
  const reserveArgs = (ip: string, mac = '52:54:00:f0:00:09') => ['net', 'reserve', 'fxn-nat', '--mac', mac, '--ip', ip];

  it('adds the host live and to the definition', async () => {
    const runner = net('fxn-nat', true).stub(
      virsh('net-update', '--network', 'fxn-nat', '--command', 'add-last', '--section', 'ip-dhcp-host', '--xml', '<host mac="52:54:00:f0:00:09" name="web9" ip="10.213.0.9"/>', '--live', '--config'),
      {},
    );
    const r = await runKvmctl([...reserveArgs('10.213.0.9'), '--hostname', 'web9'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('reserved 10.213.0.9 for 52:54:00:f0:00:09 on network fxn-nat; the next DHCP request of that MAC gets it\n');
    r.runner.verify();
  });

  it('the same reservation again is unchanged; a clash is exit 4 naming the existing entry', async () => {
    const same = await runKvmctl(['net', 'reserve', 'fxn-nat', '--mac', '52:54:00:F0:00:02', '--ip', '10.213.0.20', '--hostname', 'fxn-vm2'], net('fxn-nat', true));
    expect(same).toMatchObject({ code: 0, out: 'reservation 52:54:00:f0:00:02 -> 10.213.0.20 on network fxn-nat unchanged\n', changes: [] });
    const ipTaken = await runKvmctl(reserveArgs('10.213.0.20'), net('fxn-nat', true));
    expect(ipTaken.code).toBe(4);
    expect(ipTaken.err).toBe(
      'kvmctl: error: network fxn-nat already has a reservation 52:54:00:f0:00:02 -> 10.213.0.20 (fxn-vm2)\nhint: remove it first: kvmctl net unreserve fxn-nat --mac 52:54:00:f0:00:02\n',
    );
    const macTaken = await runKvmctl(reserveArgs('10.213.0.21', '52:54:00:f0:00:02'), net('fxn-nat', true));
    expect(macTaken.code).toBe(4);
    expect([...ipTaken.changes, ...macTaken.changes]).toEqual([]);
  });

  it('an address leased to another MAC is exit 4, naming its VM', async () => {
    const r = await runKvmctl(reserveArgs('10.213.0.227'), stubLoadDomains(net('fxn-nat', true)));
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^kvmctl: error: 10\.213\.0\.227 is leased to 52:54:00:f0:00:01 \(VM fxn-vm1\) on network fxn-nat until \S+Z\n/);
    expect(r.changes).toEqual([]);
  });

  it('input errors are exit 2 before anything runs; outside the subnet or the gateway is exit 2', async () => {
    for (const [args, message] of [
      [reserveArgs('10.213.0.9', '52:54:00:zz:00:01'), 'invalid MAC address "52:54:00:zz:00:01"'],
      [reserveArgs('10.213.0.9', '01:00:5e:00:00:01'), 'it is a multicast address'],
      [reserveArgs('10.213.0.9', '00:00:00:00:00:00'), "all zeros is no NIC's address"],
      [reserveArgs('10.213.0.300'), 'invalid --ip "10.213.0.300": not an IPv4 address'],
      [[...reserveArgs('10.213.0.9'), '--hostname', 'a_b'], 'invalid --hostname "a_b"'],
    ] as const) {
      const r = await runKvmctl([...args], new FakeRunner());
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
      expect(r.runner.calls).toEqual([]);
    }
    const outside = await runKvmctl(reserveArgs('10.214.0.9'), net('fxn-nat', true));
    expect(outside.code).toBe(2);
    expect(outside.err).toContain('10.214.0.9 is not a host address of network fxn-nat (10.213.0.0/24)');
    const gateway = await runKvmctl(reserveArgs('10.213.0.1'), net('fxn-nat', true));
    expect(gateway.err).toContain('10.213.0.1 is the gateway of network fxn-nat');
  });

  it('networks without DHCP of their own are refused (exit 5)', async () => {
    const iso = await runKvmctl(['net', 'reserve', 'fxn-iso', '--mac', '52:54:00:f0:00:09', '--ip', '10.215.0.9'], net('fxn-iso', true));
    expect(iso.code).toBe(5);
    expect(iso.err).toContain('DHCP is off on network fxn-iso');
    const br = await runKvmctl(['net', 'reserve', 'fxn-br', '--mac', '52:54:00:f0:00:09', '--ip', '10.215.0.9'], net('fxn-br', true));
    expect(br.code).toBe(5);
    expect(br.err).toContain('network fxn-br has no IPv4 subnet of its own (mode bridge)');
  });
});
