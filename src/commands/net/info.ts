import type { Context } from '../../context.js';
import { netVerb } from './network-state.js';
import { KvmctlError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { type DhcpLease, loadNetwork } from '../../libvirt/network-commands.js';
import { savedForwards } from '../../net/port-forward.js';
import { forwardColumns, forwardJson, type ForwardView, forwardViews } from './forward/view.js';
import { summarize } from './list.js';
import { vmsByMac } from './vm-owners.js';
import { leaseJson, networkJson, reservationJson } from './network-json.js';

export interface ReservationView {
  mac?: string;
  ip?: string;
  hostname?: string;
  vm?: string;
}

export interface LeaseView extends DhcpLease {
  network: string;
  vm?: string;
}

export const leaseColumns = [
  { header: 'MAC', value: (l: LeaseView) => l.mac },
  { header: 'IP', value: (l: LeaseView) => `${l.ip}/${l.prefix}` },
  { header: 'HOSTNAME', value: (l: LeaseView) => l.hostname },
  { header: 'EXPIRES', value: (l: LeaseView) => l.expiryTime },
  { header: 'VM', value: (l: LeaseView) => l.vm },
];

const reservationColumns = [
  { header: 'MAC', value: (r: ReservationView) => r.mac },
  { header: 'IP', value: (r: ReservationView) => r.ip },
  { header: 'HOSTNAME', value: (r: ReservationView) => r.hostname },
  { header: 'VM', value: (r: ReservationView) => r.vm },
];

/** One virsh batch for the network, two for the VMs, one iptables-save for the port forwards. */
export async function runNetInfo(ctx: Context, name: string): Promise<void> {
  const network = await loadNetwork(ctx.runner, ctx.uri, name, { leases: true });
  const domains = await loadDomains(ctx.runner, ctx.uri);
  const owners = vmsByMac(domains);
  const summary = summarize(network);
  const def = network.definition;

  let forwards: ForwardView[] = [];
  let forwardsError: string | undefined;
  try {
    // Forwards whose target lies in this network's subnet.
    forwards = forwardViews(savedForwards(await ctx.iptables.load()), [network], domains).filter((f) => f.network === network.name);
  } catch (e) {
    // Reading the firewall needs root; the rest of the report does not.
    if (!(e instanceof KvmctlError)) throw e;
    forwardsError = e.message;
  }

  const reservations: ReservationView[] = def.ips
    .flatMap((i) => i.dhcpHosts)
    .map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.name, vm: h.mac ? owners.get(h.mac.toLowerCase()) : undefined }));
  const leases: LeaseView[] = network.leases.map((l) => ({ network: network.name, ...l, vm: owners.get(l.mac) }));

  const json = {
    ...networkJson(summary),
    uuid: def.uuid ?? null,
    forwardDev: def.forwardDev ?? null,
    domain: def.domain ?? null,
    dhcpHosts: def.ips.flatMap((i) => i.dhcpHosts.map((h) => reservationJson(network.name, h, i.prefix, h.mac ? owners.get(h.mac.toLowerCase()) : undefined))),
    portForwards: forwardsError ? null : forwards.map(forwardJson),
    leases: leases.map((l) => leaseJson(network.name, l, l.vm)),
  };
  ctx.out.details(
    [
      ['Name', summary.name],
      ['UUID', def.uuid],
      ['State', summary.state],
      ['Autostart', summary.autostart],
      ['Persistent', summary.persistent],
      ['Mode', summary.mode],
      ['Bridge', summary.bridge],
      ['Forward device', def.forwardDev],
      ['Subnet', summary.subnet],
      ['Gateway', summary.gateway],
      ['DHCP range', summary.dhcpRange ? `${summary.dhcpRange.start}-${summary.dhcpRange.end}` : 'off'],
      ['DNS domain', def.domain],
    ],
    [
      { title: 'Static DHCP hosts', columns: reservationColumns, rows: reservations, empty: 'none (add one with: kvmctl net reserve)' },
      { title: 'Port forwards', columns: forwardColumns, rows: forwards, empty: forwardsError ? `unavailable: ${forwardsError}` : 'none' },
      { title: 'Leases', columns: leaseColumns, rows: leases, empty: network.active ? 'none' : 'none (the network is not active)' },
    ],
    json,
  );
}

export const netInfoVerb = netVerb('info', 'show one network: definition, DNS domain, static DHCP hosts, port forwards and leases', runNetInfo, {
  examples: ['kvmctl net info default', 'kvmctl net info default -o json'],
});
