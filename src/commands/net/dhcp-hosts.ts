/** What net reserve | unreserve share: the address flag, the network's DHCP <ip>, and where net-update applies. */
import { RefusedError, UsageError } from '../../errors.js';
import type { NetworkRecord, UpdateScope } from '../../libvirt/network-commands.js';
import { parseIpv4 } from '../../net/ipv4.js';

export function parseAddress(text: string, flag: string): string {
  if (parseIpv4(text) === undefined) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: not an IPv4 address`, `e.g. ${flag} 192.168.122.50`);
  return text;
}

/** The network's IPv4 <ip> element and its index among the <ip> elements (net-update's --parent-index). */
export function dhcpIp(net: NetworkRecord) {
  const index = net.definition.ips.findIndex((i) => i.family === 'ipv4');
  const ip = net.definition.ips[index];
  if (!ip) throw new RefusedError(`network ${net.name} has no IPv4 subnet of its own (mode ${net.definition.forwardMode}), so no DHCP to reserve addresses in`, 'reserve addresses on the DHCP server of the LAN instead');
  if (ip.dhcpRanges.length === 0 && ip.dhcpHosts.length === 0) {
    throw new RefusedError(`DHCP is off on network ${net.name}`, 'give the VM a static address inside it, or recreate the network with DHCP');
  }
  // --parent-index is only needed (and only accepted) when there are several <ip> elements.
  return { ip, parentIndex: net.definition.ips.length > 1 ? index : undefined };
}

/** Live for a running network, config for a persistent one: both when both. */
export function scopeOf(net: NetworkRecord): UpdateScope {
  return { live: net.active, config: net.persistent };
}

