/** net start | stop | autostart | delete | reserve | unreserve over the recorded lab (fxn-vm1 runs on fxn-nat). */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { cli, rec, stubLoadDomains, stubLoadNetwork, URI } from './net-harness.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const net = (name: string, leases = false) => stubLoadNetwork(new FakeRunner(), name, { leases });

describe('net start | stop | autostart', () => {
  it('start: an active network is unchanged; an inactive one is started', async () => {
    const a = await cli(['net', 'start', 'fxn-nat'], net('fxn-nat'));
    expect(a).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: already active\n', changes: [] });
    const runner = net('fxn-iso').stub(virsh('net-start', '--network', 'fxn-iso'), {});
    const b = await cli(['net', 'start', 'fxn-iso', '-o', 'json'], runner);
    expect(JSON.parse(b.out)).toEqual({ name: 'fxn-iso', changed: true, active: true });
    expect(b.changes).toEqual([`virsh -c ${URI} net-start --network fxn-iso`]);
  });

  it('stop is refused while a running VM uses the network, names it, and changes nothing', async () => {
    const r = await cli(['net', 'stop', 'fxn-nat'], stubLoadDomains(net('fxn-nat')));
    expect(r.code).toBe(5);
    expect(r.err).toBe('kvmctl: error: network fxn-nat is in use by running VM(s): fxn-vm1; stopping it cuts them off\nhint: shut them down first, or stop it anyway with: kvmctl net stop fxn-nat --force\n');
    expect(r.changes).toEqual([]);
    const forced = await cli(['net', 'stop', 'fxn-nat', '--force'], stubLoadDomains(net('fxn-nat')).stub(virsh('net-destroy', '--network', 'fxn-nat'), {}));
    expect(forced.code).toBe(0);
    expect(forced.changes).toEqual([`virsh -c ${URI} net-destroy --network fxn-nat`]);
  });

  it('stop of an inactive network is unchanged', async () => {
    expect(await cli(['net', 'stop', 'fxn-iso'], net('fxn-iso'))).toMatchObject({ code: 0, out: 'network fxn-iso unchanged: not active\n', changes: [] });
  });

  it('autostart and autostart --disable', async () => {
    expect(await cli(['net', 'autostart', 'fxn-nat'], net('fxn-nat'))).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: autostart already on\n' });
    const r = await cli(['net', 'autostart', 'fxn-nat', '--disable'], net('fxn-nat').stub(virsh('net-autostart', '--network', 'fxn-nat', '--disable'), {}));
    expect(r).toMatchObject({ code: 0, out: 'network fxn-nat: autostart off\n' });
  });

  it('a missing network is exit 3 for every verb', async () => {
    for (const verb of ['start', 'stop', 'autostart', 'delete']) {
      const runner = new FakeRunner().stub(
        (c) => c.args[2]?.startsWith("'net-info' '--network' 'nosuch'") ?? false,
        { stdout: 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n', stderr: "error: failed to get network 'nosuch'\nerror: Network not found: no network with matching name 'nosuch'\n" },
      );
      const r = await cli(['net', verb, 'nosuch'], runner);
      expect(r.code).toBe(3);
      expect(r.err).toContain('network "nosuch" not found');
      expect(r.changes).toEqual([]);
    }
  });
});

describe('net delete', () => {
  it('is refused while a running VM uses the network (exit 5, naming it); nothing changes', async () => {
    const r = await cli(['net', 'delete', 'fxn-nat'], stubLoadDomains(net('fxn-nat')));
    expect(r.code).toBe(5);
    expect(r.err).toBe('kvmctl: error: network fxn-nat is in use by running VM(s): fxn-vm1\nhint: shut them down (or move their interfaces to another network) first\n');
    expect(r.changes).toEqual([]);
  });

  it('stops and undefines; warns about shut-off VMs still pointing at it', async () => {
    // fxn-route is active and no VM uses it; make fxn-vm1 shut off and on it to see the warning.
    const runner = net('fxn-route');
    runner.stub((c) => c.args[2]?.startsWith("'domstats'") ?? false, { stdout: rec('virsh-domstats-raw-state.txt').replace('state.state=1', 'state.state=5') + 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n' });
    runner.stub((c) => c.args[2]?.startsWith("'dumpxml'") ?? false, (c) => ({
      // In the order loadDomains asks for them.
      stdout: [...(c.args[2] ?? '').matchAll(/'dumpxml' '--domain' '([^']+)'/g)]
        .map((m) => rec(`virsh-dumpxml-${m[1]}.xml`).replace("network='fxn-nat'", m[1] === 'fxn-vm1' ? "network='fxn-route'" : "network='fxn-nat'"))
        .join('KVMCTL-BATCH-SEPARATOR-d41d8cd9\n'),
    }));
    runner.stub(virsh('net-destroy', '--network', 'fxn-route'), {});
    runner.stub(virsh('net-undefine', '--network', 'fxn-route'), {});
    const r = await cli(['net', 'delete', 'fxn-route'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('network fxn-route deleted\n');
    expect(r.err).toBe('warning: VM(s) fxn-vm1 still have an interface on network fxn-route and will not start until it is changed\n');
    expect(r.changes).toEqual([`virsh -c ${URI} net-destroy --network fxn-route`, `virsh -c ${URI} net-undefine --network fxn-route`]);
  });

  it('an undefine that fails starts the network again: exit 7', async () => {
    const runner = stubLoadDomains(net('fxn-route'));
    runner.stub(virsh('net-destroy', '--network', 'fxn-route'), {});
    runner.stub(virsh('net-undefine', '--network', 'fxn-route'), { exitCode: 1, stderr: 'error: Failed to undefine network fxn-route\nerror: internal error: cannot remove config\n' });
    runner.stub(virsh('net-start', '--network', 'fxn-route'), {});
    const r = await cli(['net', 'delete', 'fxn-route'], runner);
    expect(r.code).toBe(7);
    expect(r.changes.at(-1)).toBe(`virsh -c ${URI} net-start --network fxn-route`);
  });
});

describe('net reserve | unreserve', () => {
  const reserveArgs = (ip: string, mac = '52:54:00:f0:00:09') => ['net', 'reserve', 'fxn-nat', '--mac', mac, '--ip', ip];

  it('adds the host live and to the definition', async () => {
    const runner = net('fxn-nat', true).stub(
      virsh('net-update', '--network', 'fxn-nat', '--command', 'add-last', '--section', 'ip-dhcp-host', '--xml', '<host mac="52:54:00:f0:00:09" name="web9" ip="10.213.0.9"/>', '--live', '--config'),
      {},
    );
    const r = await cli([...reserveArgs('10.213.0.9'), '--hostname', 'web9'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('reserved 10.213.0.9 for 52:54:00:f0:00:09 on network fxn-nat; the next DHCP request of that MAC gets it\n');
    r.runner.verify();
  });

  it('the same reservation again is unchanged; a clash is exit 4 naming the existing entry', async () => {
    const same = await cli(['net', 'reserve', 'fxn-nat', '--mac', '52:54:00:F0:00:02', '--ip', '10.213.0.20', '--hostname', 'fxn-vm2'], net('fxn-nat', true));
    expect(same).toMatchObject({ code: 0, out: 'reservation 52:54:00:f0:00:02 -> 10.213.0.20 on network fxn-nat unchanged\n', changes: [] });
    const ipTaken = await cli(reserveArgs('10.213.0.20'), net('fxn-nat', true));
    expect(ipTaken.code).toBe(4);
    expect(ipTaken.err).toBe(
      'kvmctl: error: network fxn-nat already has a reservation 52:54:00:f0:00:02 -> 10.213.0.20 (fxn-vm2)\nhint: remove it first: kvmctl net unreserve fxn-nat --mac 52:54:00:f0:00:02\n',
    );
    const macTaken = await cli(reserveArgs('10.213.0.21', '52:54:00:f0:00:02'), net('fxn-nat', true));
    expect(macTaken.code).toBe(4);
    expect([...ipTaken.changes, ...macTaken.changes]).toEqual([]);
  });

  it('an address leased to another MAC is exit 4, naming its VM', async () => {
    const r = await cli(reserveArgs('10.213.0.227'), stubLoadDomains(net('fxn-nat', true)));
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
      const r = await cli([...args], new FakeRunner());
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
      expect(r.runner.calls).toEqual([]);
    }
    const outside = await cli(reserveArgs('10.214.0.9'), net('fxn-nat', true));
    expect(outside.code).toBe(2);
    expect(outside.err).toContain('10.214.0.9 is not a host address of network fxn-nat (10.213.0.0/24)');
    const gateway = await cli(reserveArgs('10.213.0.1'), net('fxn-nat', true));
    expect(gateway.err).toContain('10.213.0.1 is the gateway of network fxn-nat');
  });

  it('networks without DHCP of their own are refused (exit 5)', async () => {
    const iso = await cli(['net', 'reserve', 'fxn-iso', '--mac', '52:54:00:f0:00:09', '--ip', '10.215.0.9'], net('fxn-iso', true));
    expect(iso.code).toBe(5);
    expect(iso.err).toContain('DHCP is off on network fxn-iso');
    const br = await cli(['net', 'reserve', 'fxn-br', '--mac', '52:54:00:f0:00:09', '--ip', '10.215.0.9'], net('fxn-br', true));
    expect(br.code).toBe(5);
    expect(br.err).toContain('network fxn-br has no IPv4 subnet of its own (mode bridge)');
  });

  it('unreserve deletes the entry as defined; an unknown one is exit 3', async () => {
    const runner = net('fxn-nat').stub(
      virsh('net-update', '--network', 'fxn-nat', '--command', 'delete', '--section', 'ip-dhcp-host', '--xml', '<host mac="52:54:00:f0:00:02" name="fxn-vm2" ip="10.213.0.20"/>', '--live', '--config'),
      {},
    );
    const r = await cli(['net', 'unreserve', 'fxn-nat', '--ip', '10.213.0.20'], runner);
    expect(r).toMatchObject({ code: 0, out: 'removed reservation 52:54:00:f0:00:02 -> 10.213.0.20 from network fxn-nat\n' });
    const missing = await cli(['net', 'unreserve', 'fxn-nat', '--mac', '52:54:00:f0:00:99'], net('fxn-nat'));
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('network fxn-nat has no reservation for 52:54:00:f0:00:99');
    const both = await cli(['net', 'unreserve', 'fxn-nat', '--mac', '52:54:00:f0:00:99', '--ip', '10.213.0.20'], new FakeRunner());
    expect(both.code).toBe(2);
  });
});
