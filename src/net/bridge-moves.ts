/**
 * kvmctl's record of the addresses and routes `bridge attach --move-address`
 * moved from a port to its bridge (per network namespace, see netns-record.ts).
 */
import type { IpAddress, Link, Route } from './ip.js';
import { currentNetnsRecord } from './netns-record.js';

/**
 * What `attach --move-address` moved from one port to its bridge, so that
 * `detach --move-address` of that port moves back exactly that. Records are
 * keyed by the port: two uplinks of one bridge each keep their own.
 */
export interface MoveRecord {
  bridge: string;
  iface: string;
  addresses: IpAddress[];
  routes: Route[];
}
export type BridgeMoves = Record<string, MoveRecord>;

export function movesRecord(stateDir: string) {
  return currentNetnsRecord<BridgeMoves>(stateDir, 'bridge-moves', () => ({}), (v) => Object.keys(v).length === 0);
}

/** The records by port; an older file kept one record per bridge, keyed by the bridge's name. */
export function movesByPort(raw: Record<string, Partial<MoveRecord>>): BridgeMoves {
  const out: BridgeMoves = {};
  for (const [key, v] of Object.entries(raw)) {
    if (typeof v?.iface !== 'string') continue;
    out[v.iface] = { bridge: v.bridge ?? key, iface: v.iface, addresses: v.addresses ?? [], routes: v.routes ?? [] };
  }
  return out;
}

/** The ports whose addresses kvmctl moved to this bridge, by records that still match the host. */
export function recordedUplinks(moves: BridgeMoves, bridge: string, links: Link[]): string[] {
  return Object.values(moves)
    .filter((m) => m.bridge === bridge && staleReason(m, links) === undefined)
    .map((m) => m.iface);
}

export const sameAddress = (a: IpAddress, b: IpAddress) => a.local === b.local && a.prefixlen === b.prefixlen;
export const sameRoute = (a: Route, b: Route) => a.dst === b.dst && a.gateway === b.gateway && a.family === b.family;

/**
 * Why a record no longer matches the host (its port left the bridge, or the
 * bridge holds none of what was moved), or undefined while it does.
 */
export function staleReason(m: MoveRecord, links: Link[]): string | undefined {
  const port = links.find((l) => l.ifname === m.iface);
  const br = links.find((l) => l.ifname === m.bridge);
  if (!br) return `bridge ${m.bridge} no longer exists`;
  if (!port) return `${m.iface} no longer exists`;
  if (port.master !== m.bridge) return `${m.iface} is no longer a port of ${m.bridge}`;
  if (m.addresses.length > 0 && !m.addresses.some((a) => br.addresses.some((b) => sameAddress(a, b)))) return `${m.bridge} holds none of the moved addresses`;
  return undefined;
}

