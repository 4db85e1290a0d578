/** The JSON object of a Linux bridge, the one mapping bridge list prints (docs/json.md; schemas/bridge-list.schema.json). */
import type { IpAddress, Link } from '../../net/ip.js';

/** The kernel's operstate in the vocabulary's words: up, down, unknown, ... (lower case). */
export function linkState(operstate: string | undefined): string {
  return (operstate ?? 'unknown').toLowerCase();
}

/** An address of a link, as the kernel has it. */
export function linkAddressJson(a: IpAddress, mac: string | undefined) {
  return { address: a.local, prefix: a.prefixlen, mac: mac?.toLowerCase() ?? null, source: 'kernel' as const };
}

/** Every bridge: state, MTU, STP, MAC, addresses, and its ports with the VM behind each (vnetN). */
export function bridgesJson(links: Link[], owners: Map<string, string>) {
  return links
    .filter((l) => l.kind === 'bridge')
    .map((b) => {
      const ports = links.filter((l) => l.master === b.ifname).map((l) => ({ name: l.ifname, state: linkState(l.operstate), vm: owners.get(l.ifname) ?? null }));
      return {
        name: b.ifname,
        state: linkState(b.operstate),
        mtu: b.mtu,
        stp: (b.stpState ?? 0) !== 0,
        mac: b.address?.toLowerCase() ?? null,
        addresses: b.addresses.map((a) => linkAddressJson(a, b.address)),
        ports,
        vms: [...new Set(ports.flatMap((p) => (p.vm ? [p.vm] : [])))],
      };
    });
}
