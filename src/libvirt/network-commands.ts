/**
 * virsh calls for libvirt networks (networkCalls), the parsers of
 * `net-dhcp-leases` and `net-info`, and the network inventory in a constant
 * number of processes. Names travel as separate argv elements (`--network NAME`).
 */
import type { Runner } from '../exec/runner.js';
import { encodeXml, el } from './xml-codec.js';
import { parseNetList, parseNetworkXml, type DhcpHost, type NetListEntry, type NetworkDefinition } from './network-xml.js';
import { read, Virsh, write, type ReadRounds } from './virsh-client.js';
import { netListCall } from './list-calls.js';

const net = (name: string) => ({ kind: 'network' as const, name });

/** Network calls for the virsh client (ctx.virsh.run(networkCalls.start(name))): the one builder of network argv. */
export const networkCalls = {
  list: netListCall,
  info: (name: string) => read(['net-info', '--network', name], net(name)),
  /** --inactive: the persistent definition (what a restart gives), not the live one. */
  dumpxml: (name: string, inactive = false) => read(['net-dumpxml', '--network', name, ...(inactive ? ['--inactive'] : [])], net(name)),
  dhcpLeases: (name: string) => read(['net-dhcp-leases', '--network', name], net(name)),
  /** Defines (or redefines) a persistent network from XML fed on stdin; --validate checks it against libvirt's schema first. */
  define: (name: string, xml: string) => write(['net-define', '--file', '/dev/stdin', '--validate'], net(name), xml),
  start: (name: string) => write(['net-start', '--network', name], net(name)),
  autostart: (name: string, enable: boolean) => write(['net-autostart', '--network', name, ...(enable ? [] : ['--disable'])], net(name)),
  /** Stops a network (libvirt calls it destroy); a transient network disappears. */
  destroy: (name: string) => write(['net-destroy', '--network', name], net(name)),
  undefine: (name: string) => write(['net-undefine', '--network', name], net(name)),
  /**
   * Adds or deletes a static DHCP host. parentIndex picks the <ip> element when
   * the network has more than one (IPv4 and IPv6).
   */
  updateDhcpHost: (name: string, op: 'add-last' | 'delete', host: DhcpHost, scope: UpdateScope, parentIndex?: number) =>
    write(
      [
        'net-update', '--network', name, '--command', op, '--section', 'ip-dhcp-host', '--xml', dhcpHostXml(host),
        ...(parentIndex !== undefined ? ['--parent-index', String(parentIndex)] : []),
        ...(scope.live ? ['--live'] : []),
        ...(scope.config ? ['--config'] : []),
      ],
      net(name),
    ),
};

export interface UpdateScope {
  /** The running network (dnsmasq is told at once). */
  live: boolean;
  /** The persistent definition. */
  config: boolean;
}

/** The <host> element net-update matches and adds. */
export function dhcpHostXml(host: DhcpHost): string {
  return encodeXml(el('host', { mac: host.mac, name: host.name, ip: host.ip })).trim();
}

export interface DhcpLease {
  /** ISO 8601 (virsh prints the expiry in the local time zone of the client). */
  expiryTime: string;
  mac: string;
  protocol: 'ipv4' | 'ipv6';
  ip: string;
  prefix: number;
  hostname?: string;
  clientId?: string;
}

const LEASE_LINE = /^\s*(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\s+(\S+)\s+(ipv4|ipv6)\s+([^\s/]+)\/(\d+)\s+(\S+)(?:\s+(\S+))?\s*$/;

/** Parses `virsh net-dhcp-leases`; the header and the dashed line are skipped. */
export function parseDhcpLeases(text: string): DhcpLease[] {
  const leases: DhcpLease[] = [];
  for (const line of text.split('\n')) {
    const m = LEASE_LINE.exec(line);
    if (!m) continue;
    const [, y, mo, d, h, mi, s, mac, protocol, ip, prefix, hostname, clientId] = m;
    const expiry = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    leases.push({
      expiryTime: expiry.toISOString(),
      mac: (mac ?? '').toLowerCase(),
      protocol: protocol as DhcpLease['protocol'],
      ip: ip ?? '',
      prefix: Number(prefix),
      ...(hostname && hostname !== '-' ? { hostname } : {}),
      ...(clientId && clientId !== '-' ? { clientId } : {}),
    });
  }
  return leases;
}

// ---- inventory -----------------------------------------------------------------

export interface NetworkRecord extends NetListEntry {
  definition: NetworkDefinition;
  /** DHCP leases of an active network (empty when inactive or not asked for). */
  leases: DhcpLease[];
}

/**
 * Every network with its definition (and leases) in two rounds of reads however
 * many networks exist: `net-list`, then every dumpxml (+ dhcp-leases). In a
 * session (`rounds`, as net list reads them) that is one virsh process; by
 * default, a batch process a round.
 */
export async function loadNetworks(runner: Runner, uri: string, opts: { leases: boolean }, rounds?: ReadRounds): Promise<NetworkRecord[]> {
  const virsh = new Virsh(runner, uri);
  const reads = rounds ?? virsh.batchRounds();
  const first = await reads.round({ list: networkCalls.list() });
  const listed = parseNetList(first.out.list);
  if (listed.length === 0) {
    if (first.stderr.trim()) throw virsh.errorOf(networkCalls.list(), first.stderr);
    return [];
  }
  const withLeases = (n: NetListEntry) => opts.leases && n.active;
  const second = await reads.round({
    networks: listed.map((n) => ({ xml: networkCalls.dumpxml(n.name), ...(withLeases(n) && { leases: networkCalls.dhcpLeases(n.name) }) })),
  });
  const networks = second.out.networks;
  const records: NetworkRecord[] = [];
  for (const [i, n] of listed.entries()) {
    const { xml = '', leases } = networks[i] ?? {};
    // A network removed between the two calls has an empty section.
    if (!xml.trim()) continue;
    records.push({ ...n, definition: await parseNetworkXml(xml), leases: withLeases(n) ? parseDhcpLeases(leases ?? '') : [] });
  }
  return records;
}

/**
 * One network: state, live definition and leases in one round of reads (a
 * batch process, or a round of `rounds`' session). Throws NotFoundError
 * (exit 3) when it does not exist.
 */
export async function loadNetwork(runner: Runner, uri: string, name: string, opts: { leases: boolean }, rounds?: ReadRounds): Promise<NetworkRecord> {
  const virsh = new Virsh(runner, uri);
  const { out, stderr } = await (rounds ?? virsh.batchRounds()).round({
    info: networkCalls.info(name),
    xml: networkCalls.dumpxml(name),
    // A list of one call or none: asked only when wanted.
    leases: opts.leases ? [networkCalls.dhcpLeases(name)] : [],
  });
  const info = parseNetInfo(out.info);
  if (!info || !out.xml.trim()) throw virsh.errorOf(networkCalls.info(name), stderr);
  return {
    name: info.name,
    active: info.active,
    autostart: info.autostart,
    persistent: info.persistent,
    definition: await parseNetworkXml(out.xml),
    // An inactive network has no leases; virsh prints an empty table for it.
    leases: opts.leases ? parseDhcpLeases(out.leases.join('')) : [],
  };
}

/** Parses `virsh net-info` ("Name:  default" lines). */
export function parseNetInfo(text: string): NetListEntry | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(line);
    if (m) fields.set((m[1] ?? '').trim().toLowerCase(), (m[2] ?? '').trim());
  }
  const name = fields.get('name');
  if (name === undefined) return undefined;
  return { name, active: fields.get('active') === 'yes', autostart: fields.get('autostart') === 'yes', persistent: fields.get('persistent') === 'yes' };
}
