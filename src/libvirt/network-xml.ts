/** libvirt network XML (https://libvirt.org/formatnetwork.html): model and parser. */
import { attr, child, children, decodeXml, type XmlNode } from './xml-codec.js';

export type ForwardMode = 'nat' | 'route' | 'open' | 'bridge' | 'isolated' | 'private' | 'vepa' | 'passthrough' | 'hostdev';

export interface DhcpHost {
  mac?: string;
  ip?: string;
  name?: string;
}

export interface NetworkIp {
  family: 'ipv4' | 'ipv6';
  address: string;
  /** Prefix length, from prefix= or netmask=. */
  prefix: number;
  dhcpRanges: Array<{ start: string; end: string }>;
  dhcpHosts: DhcpHost[];
}

export interface PortForwardRange {
  start: number;
  end?: number;
}

export interface NetworkDefinition {
  name: string;
  uuid?: string;
  /** No <forward> element means an isolated network. */
  forwardMode: ForwardMode;
  forwardDev?: string;
  bridge?: string;
  stp?: boolean;
  domain?: string;
  ips: NetworkIp[];
}

export async function parseNetworkXml(xml: string): Promise<NetworkDefinition> {
  return networkFromNode(await decodeXml(xml));
}

export function networkFromNode(root: XmlNode): NetworkDefinition {
  const forward = child(root, 'forward');
  const bridge = child(root, 'bridge');
  return {
    name: child(root, 'name')?.text ?? '',
    uuid: child(root, 'uuid')?.text,
    forwardMode: forward ? ((attr(forward, 'mode') as ForwardMode | undefined) ?? 'nat') : 'isolated',
    forwardDev: attr(forward, 'dev'),
    bridge: attr(bridge, 'name'),
    stp: attr(bridge, 'stp') === undefined ? undefined : attr(bridge, 'stp') === 'on',
    domain: attr(child(root, 'domain'), 'name'),
    ips: children(root, 'ip').map((ip) => {
      const dhcp = child(ip, 'dhcp');
      const family = attr(ip, 'family') === 'ipv6' ? 'ipv6' : 'ipv4';
      return {
        family,
        address: attr(ip, 'address') ?? '',
        prefix: prefixOf(attr(ip, 'prefix'), attr(ip, 'netmask'), family),
        dhcpRanges: children(dhcp, 'range').map((r) => ({ start: attr(r, 'start') ?? '', end: attr(r, 'end') ?? '' })),
        dhcpHosts: children(dhcp, 'host').map((h) => ({ mac: attr(h, 'mac'), ip: attr(h, 'ip'), name: attr(h, 'name') })),
      };
    }),
  };
}

function prefixOf(prefix: string | undefined, netmask: string | undefined, family: 'ipv4' | 'ipv6'): number {
  if (prefix !== undefined) return Number(prefix);
  if (netmask !== undefined) {
    return netmask
      .split('.')
      .map((o) => Number(o).toString(2).replace(/0/g, '').length)
      .reduce((a, b) => a + b, 0);
  }
  return family === 'ipv4' ? 24 : 64;
}

/** "192.168.122.1/24" -> "192.168.122.0/24" */
export function subnetOf(ip: NetworkIp): string {
  if (ip.family !== 'ipv4') return `${ip.address}/${ip.prefix}`;
  const n = ip.address.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = ip.prefix === 0 ? 0 : (~0 << (32 - ip.prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${ip.prefix}`;
}

/** One row of `virsh net-list --all`. */
export interface NetListEntry {
  name: string;
  active: boolean;
  autostart: boolean;
  persistent: boolean;
}

/** Parses `virsh net-list --all`; the last three columns are fixed, so names with spaces survive. */
export function parseNetList(text: string): NetListEntry[] {
  const rows: NetListEntry[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*Name\s+State/.test(line) || /^\s*-+\s*$/.test(line) || line.trim() === '') continue;
    const m = /^\s*(.+?)\s+(active|inactive)\s+(yes|no)\s+(yes|no)\s*$/.exec(line);
    if (m) rows.push({ name: m[1] ?? '', active: m[2] === 'active', autostart: m[3] === 'yes', persistent: m[4] === 'yes' });
  }
  return rows;
}
