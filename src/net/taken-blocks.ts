/**
 * The address blocks a host already uses (libvirt networks, interface
 * addresses, routes) and the first free private /24 among them.
 */
import type { NetworkRecord } from '../libvirt/network-commands.js';
import { subnetOf } from '../libvirt/network-xml.js';
import type { Link, Route } from './ip.js';
import { blockOf, cidrFromTool, formatCidr, overlaps, parseIpv4, type Cidr } from './ipv4.js';

/** An address block in use, and by what (for the message). */
export interface Taken {
  block: Cidr;
  what: string;
}

/** Blocks a new subnet must not overlap: other networks, host addresses, routes (not the default route). */
export function takenBlocks(networks: NetworkRecord[], links: Link[], routes: Route[]): Taken[] {
  const taken: Taken[] = [];
  for (const n of networks) {
    for (const ip of n.definition.ips.filter((i) => i.family === 'ipv4')) {
      const block = cidrFromTool(subnetOf(ip));
      if (block) taken.push({ block, what: `libvirt network ${JSON.stringify(n.name)} (${formatCidr(block)})` });
    }
  }
  for (const l of links) {
    for (const a of l.addresses.filter((x) => x.family === 'inet')) {
      const address = parseIpv4(a.local);
      if (address !== undefined) taken.push({ block: blockOf(address, a.prefixlen), what: `address ${a.local}/${a.prefixlen} of ${l.ifname}` });
    }
  }
  for (const r of routes) {
    const block = r.dst === 'default' ? undefined : cidrFromTool(r.dst);
    if (block) taken.push({ block, what: `route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}` });
  }
  return taken;
}

/** The first 192.168.N.0/24 (N from 100) that overlaps nothing, as virt-manager picks one. */
export function freeSubnet(taken: Taken[]): Cidr | undefined {
  for (let n = 100; n <= 254; n++) {
    const candidate: Cidr = { network: parseIpv4(`192.168.${n}.0`) as number, prefix: 24 };
    if (!taken.some((t) => overlaps(t.block, candidate))) return candidate;
  }
  return undefined;
}

