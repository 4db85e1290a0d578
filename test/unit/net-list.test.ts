/** net list | info | leases over recorded lab output; constant subprocess counts; lease and net-info parsing. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { loadNetworks, parseDhcpLeases, parseNetInfo } from '../../src/libvirt/network-commands.js';
import { cli, LAB_NETWORKS, rec, stubBatch, stubLoadDomains, stubLoadNetwork, stubLoadNetworks, URI } from './net-harness.js';

const LEASE_EXPIRY = /^ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(rec('virsh-net-dhcp-leases-fxn-nat.txt'))?.[1] ?? '';
/** virsh prints the expiry in local time. */
const leaseExpiryIso = new Date(LEASE_EXPIRY.replace(' ', 'T')).toISOString();

describe('parsers', () => {
  it('parseDhcpLeases reads a lease and skips the header', () => {
    expect(parseDhcpLeases(rec('virsh-net-dhcp-leases-fxn-nat.txt'))).toEqual([
      { expiryTime: leaseExpiryIso, mac: '52:54:00:f0:00:01', protocol: 'ipv4', ip: '10.213.0.227', prefix: 24, hostname: 'fxn-vm1', clientId: '01:52:54:00:f0:00:01' },
    ]);
    expect(parseDhcpLeases(rec('virsh-net-dhcp-leases-fxn-iso.txt'))).toEqual([]);
  });

  it('parseDhcpLeases: no hostname, no client id, IPv6', () => {
    const text = [
      ' Expiry Time           MAC address         Protocol   IP address                Hostname   Client ID or DUID',
      '-----------------------------------------------------------------------------------------------------------',
      ' 2026-01-02 03:04:05   52:54:00:AA:BB:CC   ipv4       192.168.122.9/24          -          -',
      ' 2026-01-02 03:04:06   52:54:00:aa:bb:cd   ipv6       2001:db8::9/64            h6',
    ].join('\n');
    expect(parseDhcpLeases(text)).toEqual([
      { expiryTime: new Date(2026, 0, 2, 3, 4, 5).toISOString(), mac: '52:54:00:aa:bb:cc', protocol: 'ipv4', ip: '192.168.122.9', prefix: 24 },
      { expiryTime: new Date(2026, 0, 2, 3, 4, 6).toISOString(), mac: '52:54:00:aa:bb:cd', protocol: 'ipv6', ip: '2001:db8::9', prefix: 64, hostname: 'h6' },
    ]);
  });

  it('parseNetInfo', () => {
    expect(parseNetInfo(rec('virsh-net-info-fxn-iso.txt'))).toEqual({ name: 'fxn-iso', active: false, autostart: false, persistent: true });
    expect(parseNetInfo('')).toBeUndefined();
  });
});

describe('net list', () => {
  it('shows every network with mode, bridge, subnet, DHCP range and lease count', async () => {
    const r = await cli(['net', 'list'], stubLoadNetworks(new FakeRunner(), { leases: true }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
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
    const r = await cli(['net', 'list', '-o', 'json'], stubLoadNetworks(new FakeRunner(), { leases: true }));
    const nat = JSON.parse(r.out).find((n: { name: string }) => n.name === 'fxn-nat');
    expect(nat).toEqual({
      name: 'fxn-nat',
      state: 'active',
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
        names.flatMap((n) => [rec('virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), rec('virsh-net-dhcp-leases-fxn-nat.txt')]),
      );
      const r = await cli(['net', 'list', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(2);
    }
  });

  it('an unreachable libvirt is exit 5 naming the URI', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['net-list', '--all']], [''], "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n");
    const r = await cli(['net', 'list'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain(`cannot reach libvirt at ${URI}`);
  });

  it('loadNetworks skips a network removed between its two calls', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['net-list', '--all']], [rec('virsh-net-list-all.txt')]);
    stubBatch(runner, LAB_NETWORKS.map((n) => ['net-dumpxml', '--network', n]), LAB_NETWORKS.map((n) => (n === 'fxn-iso' ? '' : rec(`virsh-net-dumpxml-${n}.xml`))));
    expect((await loadNetworks(runner, URI, { leases: false })).map((n) => n.name)).toEqual(['default', 'fxn-br', 'fxn-nat', 'fxn-route']);
  });
});

describe('net leases', () => {
  it('lists the leases of every network with the VM that owns each MAC: four virsh calls', async () => {
    const runner = stubLoadDomains(stubLoadNetworks(new FakeRunner(), { leases: true }));
    const r = await cli(['net', 'leases', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    // default's lease belongs to a VM undefined since (see the README): no VM owns its MAC.
    const defaultLease = parseDhcpLeases(rec('virsh-net-dhcp-leases-default.txt'))[0];
    expect(JSON.parse(r.out)).toEqual([
      { network: 'default', ...defaultLease },
      { network: 'fxn-nat', expiryTime: leaseExpiryIso, mac: '52:54:00:f0:00:01', protocol: 'ipv4', ip: '10.213.0.227', prefix: 24, hostname: 'fxn-vm1', clientId: '01:52:54:00:f0:00:01', vm: 'fxn-vm1' },
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
        names.flatMap((n) => [rec('virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), rec('virsh-net-dhcp-leases-fxn-nat.txt')]),
      );
      const r = await cli(['net', 'leases', '-o', 'json'], stubLoadDomains(runner));
      expect(JSON.parse(r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(4);
    }
  });

  it('of one network, as a table', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-nat', { leases: true }));
    const r = await cli(['net', 'leases', 'fxn-nat'], runner);
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
      rec('err-virsh-net-dhcp-leases-nosuch.stderr'),
    );
    const r = await cli(['net', 'leases', 'nosuch'], runner);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`kvmctl: error: network "nosuch" not found (Network not found: no network with matching name 'nosuch')\nhint: list what exists with: kvmctl net list\n`);
  });
});

describe('net info', () => {
  const iptablesSave = (runner: FakeRunner, stdout: string) => runner.stub(['iptables-save'], { stdout });

  it('shows definition, reservations with their VM, leases and port forwards into its subnet', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-nat', { leases: true }));
    // A forward into fxn-nat's subnet, and the recorded ones elsewhere (10.77.0.0/24), which are not listed.
    iptablesSave(runner, rec('ns-iptables-save-nat-forwards.txt').replace(/10\.77\.0\.2\b/g, '10.213.0.20'));
    const r = await cli(['net', 'info', 'fxn-nat', '-o', 'json'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info).toMatchObject({
      name: 'fxn-nat',
      state: 'active',
      mode: 'nat',
      bridge: 'virbr1',
      subnet: '10.213.0.0/24',
      gateway: '10.213.0.1',
      domain: 'fx.local',
      dhcpHosts: [{ mac: '52:54:00:f0:00:02', ip: '10.213.0.20', hostname: 'fxn-vm2', vm: 'fxn-vm2' }],
      leases: [{ network: 'fxn-nat', mac: '52:54:00:f0:00:01', ip: '10.213.0.227', vm: 'fxn-vm1' }],
    });
    expect(info.portForwards).toEqual([{ id: 'tcp-2222', protocol: 'tcp', port: '2222', toAddress: '10.213.0.20', toPort: '22', network: 'fxn-nat', vm: 'fxn-vm2', complete: true }]);
    expect(r.runner.calls).toHaveLength(4);
  });

  it('still reports the network when the firewall cannot be read', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-iso', { leases: true }));
    runner.stub(['iptables-save'], { exitCode: 1, stderr: 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' });
    const r = await cli(['net', 'info', 'fxn-iso'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^State\s+inactive$/m);
    expect(r.out).toMatch(/^DHCP range\s+off$/m);
    expect(r.out).toContain('unavailable: cannot read the firewall: iptables-save failed: iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)');
    expect(r.out).toContain('none (the network is not active)');
  });
});
