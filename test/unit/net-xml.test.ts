/**
 * Network XML: what `net create` generates (golden files in
 * fixtures/golden/network; libvirt's schema check of them runs in the
 * integration tier), and what libvirt reports of real networks (recorded).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultDhcpRange, parseCreateRequest, specDifferences, specFor, type NetCreateOptions } from '../../src/commands/net/create.js';
import { buildNetworkXml, parseNetList, parseNetworkXml, subnetOf } from '../../src/libvirt/network-xml.js';
import { encodeXml } from '../../src/libvirt/xml-codec.js';
import { formatIpv4, parseSubnet } from '../../src/net/ipv4.js';
import { rec } from './net-harness.js';

// Regenerate with: UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/net-xml.test.ts
const GOLDEN = new URL('../fixtures/golden/network/', import.meta.url);

/** The XML `kvmctl net create NAME OPTIONS` defines, for a subnet already chosen. */
function createXml(name: string, opts: NetCreateOptions): string {
  const req = parseCreateRequest(name, opts);
  return encodeXml(buildNetworkXml(specFor(req, req.subnet)));
}

const CASES: Array<[string, string, NetCreateOptions]> = [
  ['nat', 'lab', { mode: 'nat', subnet: '10.10.0.0/24' }],
  ['nat-full', 'lab2', { mode: 'nat', subnet: '10.20.0.0/16', dhcpRange: '10.20.1.0-10.20.1.255', bridgeName: 'virbr20', forwardDev: 'eth0', domain: 'lab.local' }],
  ['route', 'routed', { mode: 'route', subnet: '172.30.5.0/28', forwardDev: 'eth1' }],
  ['isolated-no-dhcp', 'backend', { mode: 'isolated', subnet: '192.168.250.0/24', dhcp: false }],
  ['bridge', 'lan', { mode: 'bridge', bridgeName: 'br0' }],
  ['escaped', "a&b<'c>", { mode: 'nat', subnet: '10.30.0.0/24', domain: 'x-y.example' }],
];

describe('net create XML', () => {
  it.each(CASES)('%s matches its golden file', (file, name, opts) => {
    const xml = createXml(name, opts);
    const path = new URL(`${file}.xml`, GOLDEN);
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(path, xml);
    }
    expect(xml).toBe(readFileSync(path, 'utf8'));
  });

  it('nat: gateway on the first host address, DHCP on the rest', () => {
    expect(createXml('lab', { mode: 'nat', subnet: '10.10.0.0/24' })).toBe(
      [
        '<network>',
        '  <name>lab</name>',
        '  <forward mode="nat"/>',
        '  <ip address="10.10.0.1" prefix="24">',
        '    <dhcp>',
        '      <range start="10.10.0.2" end="10.10.0.254"/>',
        '    </dhcp>',
        '  </ip>',
        '</network>',
        '',
      ].join('\n'),
    );
  });

  it('the default DHCP range scales with the prefix', () => {
    const range = (s: string) => {
      const r = defaultDhcpRange(parseSubnet(s));
      return `${formatIpv4(r.start)}-${formatIpv4(r.end)}`;
    };
    expect(range('10.10.0.0/24')).toBe('10.10.0.2-10.10.0.254');
    expect(range('10.10.0.0/16')).toBe('10.10.0.2-10.10.255.254');
    expect(range('10.10.0.16/28')).toBe('10.10.0.18-10.10.0.30');
    expect(range('10.10.0.4/30')).toBe('10.10.0.6-10.10.0.6');
  });

  it('a generated network reads back as the same spec', async () => {
    for (const [, name, opts] of CASES) {
      const req = parseCreateRequest(name, opts);
      const spec = specFor(req, req.subnet);
      expect(specDifferences(spec, await parseNetworkXml(encodeXml(buildNetworkXml(spec))))).toEqual([]);
    }
  });
});

describe('networks libvirt reports (recorded)', () => {
  it('parses the net-list of the lab', () => {
    expect(parseNetList(rec('virsh-net-list-all.txt'))).toEqual([
      { name: 'default', active: true, autostart: true, persistent: true },
      { name: 'fxn-br', active: true, autostart: false, persistent: true },
      { name: 'fxn-iso', active: false, autostart: false, persistent: true },
      { name: 'fxn-nat', active: true, autostart: true, persistent: true },
      { name: 'fxn-route', active: true, autostart: false, persistent: true },
    ]);
  });

  it('parses each mode, reservations and the domain', async () => {
    const nat = await parseNetworkXml(rec('virsh-net-dumpxml-fxn-nat.xml'));
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
    expect(await parseNetworkXml(rec('virsh-net-dumpxml-fxn-iso.xml'))).toMatchObject({ forwardMode: 'isolated', ips: [{ address: '10.215.0.1', dhcpRanges: [], dhcpHosts: [] }] });
    expect(await parseNetworkXml(rec('virsh-net-dumpxml-fxn-route.xml'))).toMatchObject({ forwardMode: 'route', ips: [{ dhcpRanges: [{ start: '10.214.0.100', end: '10.214.0.199' }] }] });
    expect(await parseNetworkXml(rec('virsh-net-dumpxml-fxn-br.xml'))).toMatchObject({ forwardMode: 'bridge', bridge: 'fxbr0', ips: [] });
    // libvirt's default network says netmask=, not prefix=.
    expect((await parseNetworkXml(rec('virsh-net-dumpxml-default.xml'))).ips[0]).toMatchObject({ address: '192.168.122.1', prefix: 24 });
  });

  it('a network libvirt made from a spec compares equal to it; another spec lists each difference', async () => {
    const defined = await parseNetworkXml(rec('virsh-net-dumpxml-fxn-nat.xml'));
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
