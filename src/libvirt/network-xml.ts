/** libvirt network XML (https://libvirt.org/formatnetwork.html): model, parser and builder. */
import { attr, child, children, decodeXml, el, xmlParser, type XmlNode } from './xml-codec.js';
import { blockOf, formatCidr, parseIpv4 } from '../net/ipv4.js';

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

export const parseNetworkXml: (xml: string) => Promise<NetworkDefinition> = xmlParser(networkFromNode);

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
  const address = ip.family === 'ipv4' ? parseIpv4(ip.address) : undefined;
  if (address === undefined) return `${ip.address}/${ip.prefix}`;
  return formatCidr(blockOf(address, ip.prefix));
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

// ---- builder -----------------------------------------------------------------

/** The modes `net create` makes. */
export type CreatableMode = 'nat' | 'route' | 'isolated' | 'bridge';
export const CREATABLE_MODES: readonly CreatableMode[] = ['nat', 'route', 'isolated', 'bridge'];

export interface NetworkSpec {
  name: string;
  mode: CreatableMode;
  /** nat/route/isolated: the bridge libvirt creates (virbrN, chosen by libvirt when absent); bridge: the existing host bridge. */
  bridge?: string;
  /** nat/route: the host interface traffic must leave through. */
  forwardDev?: string;
  /** DNS domain served by the network's dnsmasq. */
  domain?: string;
  /** nat/route/isolated: the gateway address (the bridge's) and prefix, and the DHCP range unless DHCP is off. */
  ipv4?: { address: string; prefix: number; dhcpRange?: { start: string; end: string } };
}

/** Network XML for a spec, with the elements and attributes libvirt documents. */
export function buildNetworkXml(spec: NetworkSpec): XmlNode {
  if (spec.mode === 'bridge') {
    // libvirt's bridge mode: guests join an existing host bridge; no addresses or DHCP of libvirt's own.
    return el('network', {}, el('name', {}, spec.name), el('forward', { mode: 'bridge' }), el('bridge', { name: spec.bridge }));
  }
  const ip = spec.ipv4;
  return el(
    'network',
    {},
    el('name', {}, spec.name),
    spec.mode !== 'isolated' && el('forward', { mode: spec.mode, dev: spec.forwardDev }),
    spec.bridge !== undefined && el('bridge', { name: spec.bridge, stp: 'on', delay: 0 }),
    spec.domain !== undefined && el('domain', { name: spec.domain, localOnly: 'yes' }),
    ip &&
      el(
        'ip',
        { address: ip.address, prefix: ip.prefix },
        ip.dhcpRange && el('dhcp', {}, el('range', { start: ip.dhcpRange.start, end: ip.dhcpRange.end })),
      ),
  );
}

/** dnsmasq's lease time when libvirt writes none into its dhcp-range (no <lease> element): one hour. */
export const DNSMASQ_DEFAULT_LEASE_SECONDS = 3600;

const LEASE_UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600 };

/**
 * How long the network's DHCP leases last, in seconds: the <lease expiry=
 * unit=> of its first IPv4 range (libvirt 6.3+; unit minutes by default), or
 * dnsmasq's default. null for expiry='0' (infinite leases: an expiry time says
 * nothing about when the lease was made).
 */
export async function dhcpLeaseSeconds(xml: string): Promise<number | null> {
  const root = await decodeXml(xml);
  const ip = children(root, 'ip').find((i) => attr(i, 'family') !== 'ipv6');
  const lease = child(children(child(ip, 'dhcp'), 'range')[0], 'lease');
  const expiry = attr(lease, 'expiry');
  if (expiry === undefined || !/^\d+$/.test(expiry)) return DNSMASQ_DEFAULT_LEASE_SECONDS;
  if (Number(expiry) === 0) return null;
  return Number(expiry) * (LEASE_UNIT_SECONDS[attr(lease, 'unit') ?? 'minutes'] ?? 60);
}
