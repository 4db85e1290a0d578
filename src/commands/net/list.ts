import type { Context } from '../../context.js';
import type { NetworkRecord } from '../../libvirt/network-commands.js';
import { loadNetworks } from '../../libvirt/network-commands.js';
import { subnetOf } from '../../libvirt/network-xml.js';
import { verb } from '../../verb.js';
import { networkJson } from './network-json.js';

/** One network as `net list` and `net info` show it (and as JSON). */
export interface NetworkSummary {
  name: string;
  state: 'active' | 'inactive';
  autostart: boolean;
  persistent: boolean;
  /** nat, route, open, bridge, isolated, ... */
  mode: string;
  bridge?: string;
  subnet?: string;
  gateway?: string;
  dhcpRange?: { start: string; end: string };
  /** null: an active network whose leases were not read. */
  leaseCount: number | null;
}

/** `leasesRead`: false when the record was loaded without its leases (a mutation's), so an active network's count is unknown. */
export function summarize(n: NetworkRecord, leasesRead = true): NetworkSummary {
  const ipv4 = n.definition.ips.find((ip) => ip.family === 'ipv4');
  const range = ipv4?.dhcpRanges[0];
  return {
    name: n.name,
    state: n.active ? 'active' : 'inactive',
    autostart: n.autostart,
    persistent: n.persistent,
    mode: n.definition.forwardMode,
    bridge: n.definition.bridge,
    subnet: ipv4 ? subnetOf(ipv4) : undefined,
    gateway: ipv4?.address,
    dhcpRange: range ? { start: range.start, end: range.end } : undefined,
    leaseCount: leasesRead || !n.active ? n.leases.length : null,
  };
}

export const networkColumns = [
  { header: 'NAME', value: (n: NetworkSummary) => n.name },
  { header: 'STATE', value: (n: NetworkSummary) => n.state },
  { header: 'AUTOSTART', value: (n: NetworkSummary) => n.autostart },
  { header: 'PERSISTENT', value: (n: NetworkSummary) => n.persistent },
  { header: 'MODE', value: (n: NetworkSummary) => n.mode },
  { header: 'BRIDGE', value: (n: NetworkSummary) => n.bridge },
  { header: 'SUBNET', value: (n: NetworkSummary) => n.subnet },
  { header: 'DHCP', value: (n: NetworkSummary) => (n.dhcpRange ? `${n.dhcpRange.start}-${n.dhcpRange.end}` : undefined) },
  { header: 'LEASES', value: (n: NetworkSummary) => n.leaseCount },
];

/** One virsh process however many networks exist: a session of two rounds (the list, then every definition and active network's leases). */
export async function runNetList(ctx: Context): Promise<void> {
  const records = await ctx.virsh.session((session) => loadNetworks(ctx.runner, ctx.uri, { leases: true }, session));
  const networks = records.map((n) => summarize(n));
  ctx.out.list(networkColumns, networks, networks.map(networkJson));
  if (!ctx.out.json && networks.length === 0) ctx.out.info('no libvirt networks; create one with: kvmctl net create NAME --mode nat');
}

export const netListVerb = verb('list', 'list libvirt networks: state, autostart, mode, bridge, subnet, DHCP range, leases', runNetList, {
  examples: ['kvmctl net list', 'kvmctl net list -o json'],
  fanOut: true,
  listColumns: networkColumns,
});
