/** `ip -j` (iproute2 JSON output): links, addresses, bridges and their ports. */
import { readCommand, type Command } from '../exec/command.js';

export function ipAddrShowCommand(): Command {
  return readCommand('ip', ['-j', '-d', 'addr', 'show']);
}

export interface IpAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
}

export interface Link {
  ifname: string;
  ifindex: number;
  operstate: string;
  mtu: number;
  address?: string;
  /** The bridge (or bond) this link is enslaved to. */
  master?: string;
  /** linkinfo.info_kind: bridge, veth, tun, dummy, ... */
  kind?: string;
  /** For bridges: spanning tree state (0 off, 1 kernel, 2 user). */
  stpState?: number;
  flags: string[];
  addresses: IpAddress[];
}

interface RawLink {
  ifname?: string;
  ifindex?: number;
  operstate?: string;
  mtu?: number;
  address?: string;
  master?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { stp_state?: number } };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

export function parseIpLinks(json: string): Link[] {
  const raw = JSON.parse(json || '[]') as RawLink[];
  return raw
    .filter((r) => typeof r.ifname === 'string')
    .map((r) => ({
      ifname: r.ifname as string,
      ifindex: r.ifindex ?? 0,
      operstate: r.operstate ?? 'UNKNOWN',
      mtu: r.mtu ?? 0,
      address: r.address,
      master: r.master,
      kind: r.linkinfo?.info_kind,
      stpState: r.linkinfo?.info_data?.stp_state,
      flags: r.flags ?? [],
      addresses: (r.addr_info ?? [])
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local !== undefined)
        .map((a) => ({ family: a.family as 'inet' | 'inet6', local: a.local as string, prefixlen: a.prefixlen ?? 0, scope: a.scope })),
    }));
}

export interface BridgeInfo {
  name: string;
  state: string;
  mtu: number;
  stp: boolean;
  addresses: string[];
  ports: string[];
}

export function bridgesOf(links: Link[]): BridgeInfo[] {
  return links
    .filter((l) => l.kind === 'bridge')
    .map((b) => ({
      name: b.ifname,
      state: b.operstate,
      mtu: b.mtu,
      stp: (b.stpState ?? 0) !== 0,
      addresses: b.addresses.map((a) => `${a.local}/${a.prefixlen}`),
      ports: links.filter((l) => l.master === b.ifname).map((l) => l.ifname),
    }));
}
