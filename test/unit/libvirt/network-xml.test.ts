/** Network XML libvirt reports (recorded), read back by parseNetworkXml and parseNetList. */
import { describe, expect, it } from 'vitest';
import { specDifferences } from '../../../src/commands/net/create-converge.js';
import { parseCreateRequest, specFor } from '../../../src/commands/net/create-request.js';
import { parseNetList, parseNetworkXml, subnetOf } from '../../../src/libvirt/network-xml.js';
import { recorded } from '../../support/harness.js';

describe('networks libvirt reports (recorded)', () => {
  it('parses the net-list of the lab', () => {
    expect(parseNetList(recorded('net/virsh-net-list-all.txt'))).toEqual([
      { name: 'default', active: true, autostart: true, persistent: true },
      { name: 'fxn-br', active: true, autostart: false, persistent: true },
      { name: 'fxn-iso', active: false, autostart: false, persistent: true },
      { name: 'fxn-nat', active: true, autostart: true, persistent: true },
      { name: 'fxn-route', active: true, autostart: false, persistent: true },
    ]);
  });

  it('parses each mode, reservations and the domain', async () => {
    const nat = await parseNetworkXml(recorded('net/virsh-net-dumpxml-fxn-nat.xml'));
    expect(nat).toMatchObject({ name: 'fxn-nat', forwardMode: 'nat', bridge: 'virbr1', domain: 'fx.local' });
    expect(nat.ips).toEqual([
      {
        family: 'ipv4',
        address: '10.213.0.1',
        prefix: 24,
        dhcpRanges: [{ start: '10.213.0.2', end: '10.213.0.254' }],
        dhcpHosts: [{ mac: '52:54:00:f0:00:02', name: 'fxn-vm2', ip: '10.213.0.20' }],
      },
    ]);
    expect(subnetOf(nat.ips[0]!)).toBe('10.213.0.0/24');
    expect(await parseNetworkXml(recorded('net/virsh-net-dumpxml-fxn-iso.xml'))).toMatchObject({ forwardMode: 'isolated', ips: [{ address: '10.215.0.1', dhcpRanges: [], dhcpHosts: [] }] });
    expect(await parseNetworkXml(recorded('net/virsh-net-dumpxml-fxn-route.xml'))).toMatchObject({ forwardMode: 'route', ips: [{ dhcpRanges: [{ start: '10.214.0.100', end: '10.214.0.199' }] }] });
    expect(await parseNetworkXml(recorded('net/virsh-net-dumpxml-fxn-br.xml'))).toMatchObject({ forwardMode: 'bridge', bridge: 'fxbr0', ips: [] });
    // libvirt's default network says netmask=, not prefix=.
    expect((await parseNetworkXml(recorded('net/virsh-net-dumpxml-default.xml'))).ips[0]).toMatchObject({ address: '192.168.122.1', prefix: 24 });
  });

  it('a network libvirt made from a spec compares equal to it; another spec lists each difference', async () => {
    const defined = await parseNetworkXml(recorded('net/virsh-net-dumpxml-fxn-nat.xml'));
    const same = parseCreateRequest('fxn-nat', { mode: 'nat', subnet: '10.213.0.0/24', domain: 'fx.local' });
    expect(specDifferences(specFor(same, same.subnet), defined)).toEqual([]);
    const other = parseCreateRequest('fxn-nat', { mode: 'route', subnet: '10.213.0.0/16', dhcp: false });
    expect(specDifferences(specFor(other, other.subnet), defined)).toEqual([
      'mode: asked route, defined nat',
      'DNS domain: asked none, defined fx.local',
      'address: asked 10.213.0.1/16, defined 10.213.0.1/24',
      'DHCP range: asked none, defined 10.213.0.2-10.213.0.254',
    ]);
  });
});
