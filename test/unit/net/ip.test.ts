/** ip -j parsing (recorded) and the argv of ip changes. */
import { describe, expect, it } from 'vitest';
import { formatCommand } from '../../../src/exec/command.js';
import { ExitCode } from '../../../src/errors.js';
import { bridgesOf, configuredRoutes, defaultRouteDevices, findBridge, ipAddrAddCommand, ipAddrDelCommand, ipBridgeAddCommand, ipLinkSetMasterCommand, ipLinkSetNoMasterCommand, ipRouteDelCommand, ipRouteReplaceCommand, ipRouteShowCommand, movableAddresses, parseIpLinks, parseIpRoutes } from '../../../src/net/ip.js';
import { recorded } from '../../support/harness.js';

const links = parseIpLinks(recorded('net/ns-ip-j-d-addr-show.json'));
const routes = [...parseIpRoutes(recorded('net/ns-ip-j-route-show.json'), 4), ...parseIpRoutes(recorded('net/ns-ip-j-6-route-show.json'), 6)];

describe('parseIpLinks on a namespace with a bridge, a veth port and an uplink', () => {
  it('reads kinds, masters and addresses', () => {
    const byName = new Map(links.map((l) => [l.ifname, l]));
    expect([...byName.keys()]).toEqual(['lo', 'fxup', 'fxclp', 'fxcl', 'fxbr']);
    expect(byName.get('fxbr')).toMatchObject({ kind: 'bridge', stpState: 0 });
    expect(byName.get('fxcl')).toMatchObject({ kind: 'veth', master: 'fxbr' });
    expect(byName.get('fxup')?.addresses.map((a) => `${a.family} ${a.local}/${a.prefixlen} ${a.scope}`)).toEqual([
      'inet 198.51.100.1/24 global',
      'inet6 2001:db8:1::1/64 global',
      // veths get random MACs, so their link-local addresses differ per recording.
      expect.stringMatching(/^inet6 fe80::[0-9a-f:]+\/64 link$/),
    ]);
    expect(bridgesOf(links)).toEqual([{ name: 'fxbr', state: 'UP', mtu: 1500, stp: false, addresses: ['10.77.0.1/24', expect.stringMatching(/^fe80::/)], ports: ['fxcl'] }]);
  });

  it('finds the lab bridges and the tap of a running VM', () => {
    const lab = parseIpLinks(recorded('net/lab-ip-j-d-addr-show.json'));
    // The tap's name (vnetN, numbered by libvirt) is the one domstats reports for fxn-vm1.
    const vnet = /net\.0\.name=(\S+)/.exec(recorded('net/virsh-domstats-raw-interface-list-active.txt'))?.[1];
    expect(vnet).toMatch(/^vnet\d+$/);
    expect(lab.filter((l) => l.kind === 'tun').map((l) => [l.ifname, l.master])).toEqual([[vnet, 'virbr1']]);
    expect(bridgesOf(lab).map((b) => b.name)).toEqual(['virbr0', 'fxbr0', 'virbr1', 'virbr2']);
  });

  it('movableAddresses keeps IPv4 and static global IPv6, not loopback or link-local', () => {
    const fxup = links.find((l) => l.ifname === 'fxup');
    expect(fxup && movableAddresses(fxup).map((a) => a.local)).toEqual(['198.51.100.1', '2001:db8:1::1']);
    const lo = links.find((l) => l.ifname === 'lo');
    expect(lo && movableAddresses(lo)).toEqual([]);
    expect(movableAddresses({ ...links[1]!, addresses: [{ family: 'inet6', local: '2001:db8::5', prefixlen: 64, scope: 'global', dynamic: true }] })).toEqual([]);
  });

  it('findBridge: a missing bridge is exit 3, a non-bridge exit 2', () => {
    expect(findBridge(links, 'fxbr').ifname).toBe('fxbr');
    expect(() => findBridge(links, 'nosuch')).toThrow(expect.objectContaining({ exitCode: ExitCode.NotFound, message: 'bridge "nosuch" not found' }));
    expect(() => findBridge(links, 'fxup')).toThrow(expect.objectContaining({ exitCode: ExitCode.Usage, message: 'fxup is not a bridge (it is a veth interface)' }));
  });
});

describe('routes', () => {
  it('parses both families and finds the default route device', () => {
    expect(routes.filter((r) => r.dst !== 'fe80::/64').map((r) => `${r.family} ${r.dst} ${r.dev} ${r.protocol ?? 'boot'}`)).toEqual([
      '4 default fxup boot',
      '4 10.77.0.0/24 fxbr kernel',
      '4 198.51.100.0/24 fxup kernel',
      '4 203.0.113.0/24 fxup static',
      '6 2001:db8:1::/64 fxup kernel',
    ]);
    expect(routes.filter((r) => r.dst === 'fe80::/64').every((r) => r.protocol === 'kernel')).toBe(true);
    expect([...defaultRouteDevices(routes)]).toEqual(['fxup']);
    expect(ipRouteShowCommand(6)).toEqual({ program: 'ip', args: ['-j', '-6', 'route', 'show'], mutates: false });
  });

  it('configuredRoutes leaves out what the kernel recreates with the addresses', () => {
    expect(configuredRoutes(routes, 'fxup').map((r) => r.dst)).toEqual(['default', '203.0.113.0/24']);
    expect(configuredRoutes(routes, 'fxbr')).toEqual([]);
  });

  it('a route moves to another device with every attribute but its device', () => {
    const [def, , , stat] = routes;
    expect(formatCommand(ipRouteReplaceCommand(def!, 'fxbr'))).toBe('ip route replace default via 198.51.100.2 dev fxbr');
    expect(formatCommand(ipRouteReplaceCommand(stat!, 'fxbr'))).toBe('ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50');
    expect(formatCommand(ipRouteDelCommand(stat!, 'fxbr'))).toBe('ip route del 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50');
    const kernel = routes[1]!;
    expect(formatCommand(ipRouteReplaceCommand(kernel, 'br9'))).toBe('ip route replace 10.77.0.0/24 dev br9 proto kernel scope link src 10.77.0.1');
  });
});

describe('ip argv', () => {
  it('pins every change kvmctl makes', () => {
    expect(ipBridgeAddCommand('br0', true)).toEqual({ program: 'ip', args: ['link', 'add', 'name', 'br0', 'type', 'bridge', 'stp_state', '1'], mutates: true });
    expect(ipLinkSetMasterCommand('eth0', 'br0').args).toEqual(['link', 'set', 'dev', 'eth0', 'master', 'br0']);
    expect(ipLinkSetNoMasterCommand('eth0').args).toEqual(['link', 'set', 'dev', 'eth0', 'nomaster']);
    expect(ipAddrAddCommand({ family: 'inet', local: '10.0.0.1', prefixlen: 24, broadcast: '10.0.0.255' }, 'br0').args).toEqual(['addr', 'add', '10.0.0.1/24', 'broadcast', '10.0.0.255', 'dev', 'br0']);
    expect(ipAddrDelCommand({ family: 'inet6', local: '2001:db8::1', prefixlen: 64 }, 'br0').args).toEqual(['-6', 'addr', 'del', '2001:db8::1/64', 'dev', 'br0']);
  });
});
