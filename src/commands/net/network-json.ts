/**
 * The JSON objects of the net noun, one mapping per kind: a network (net
 * list, info and every mutation), a DHCP lease and a reservation (addresses
 * in the vocabulary's shape), so that list, info and mutations cannot drift
 * (docs/json.md; schemas/net-list.schema.json).
 */
import type { DhcpLease, NetworkRecord } from '../../libvirt/network-commands.js';
import type { DhcpHost } from '../../libvirt/network-xml.js';
import type { NetworkSummary } from './list.js';

/** Every key present: null where the network has no such thing (an isolated network's bridge, a network without DHCP). */
export function networkJson(n: NetworkSummary) {
  return {
    name: n.name,
    state: n.state,
    active: n.state === 'active',
    autostart: n.autostart,
    persistent: n.persistent,
    mode: n.mode,
    bridge: n.bridge ?? null,
    subnet: n.subnet ?? null,
    gateway: n.gateway ?? null,
    dhcpRange: n.dhcpRange ? { start: n.dhcpRange.start, end: n.dhcpRange.end } : null,
    leaseCount: n.leaseCount,
  };
}

/** `{changed, ...network}`: what net create, start, stop and autostart print. */
export function networkResult(changed: boolean, n: NetworkSummary) {
  return { changed, ...networkJson(n) };
}

/** A network record after a change kvmctl made itself: active and autostart as they now are (an inactive network has no leases). */
export function asNow(n: NetworkRecord, now: { active?: boolean; autostart?: boolean }): NetworkRecord {
  const active = now.active ?? n.active;
  return { ...n, active, autostart: now.autostart ?? n.autostart, leases: active ? n.leases : [] };
}

/** A DHCP lease: an address of source "lease", with the network and the VM that owns the MAC. */
export function leaseJson(network: string, l: DhcpLease, vm: string | undefined) {
  return {
    address: l.ip,
    prefix: l.prefix,
    mac: l.mac.toLowerCase(),
    source: 'lease' as const,
    hostname: l.hostname ?? null,
    expiresAt: l.expiryTime,
    family: l.protocol,
    clientId: l.clientId ?? null,
    network,
    vm: vm ?? null,
  };
}

/** A static DHCP host (net reserve): an address of source "static" with its hostname and the VM that owns the MAC. */
export function reservationJson(network: string, h: DhcpHost, prefix: number | null, vm: string | undefined) {
  return {
    address: h.ip ?? null,
    prefix,
    mac: h.mac?.toLowerCase() ?? null,
    source: 'static' as const,
    hostname: h.name ?? null,
    network,
    vm: vm ?? null,
  };
}
