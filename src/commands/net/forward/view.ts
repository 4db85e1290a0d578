/** Port forwards as `net forward list` and `net info` show them: with the VM and network behind the target. */
import type { DomainRecord } from '../../../libvirt/domains.js';
import type { NetworkRecord } from '../../../libvirt/network-commands.js';
import { subnetOf } from '../../../libvirt/network-xml.js';
import { formatPortRange, RULES_PER_FORWARD, type PortRange, type SavedForward } from '../../../net/port-forward.js';
import { cidrFromTool, contains, parseIpv4 } from '../../../net/ipv4.js';
import { vmsByMac } from '../vm-owners.js';

export interface ForwardView {
  id: string;
  protocol: string;
  /** The host ports (one port: start == end). */
  port: PortRange;
  toAddress: string;
  toPort: PortRange;
  network?: string;
  vm?: string;
  /** False when some of its rules are missing (delete it and add it again). */
  complete: boolean;
}

/** The libvirt network whose subnet holds the address. */
export function networkOfAddress(networks: NetworkRecord[], address: string): NetworkRecord | undefined {
  const ip = parseIpv4(address);
  if (ip === undefined) return undefined;
  return networks.find((n) =>
    n.definition.ips.some((i) => {
      const block = i.family === 'ipv4' ? cidrFromTool(subnetOf(i)) : undefined;
      return block !== undefined && contains(block, ip);
    }),
  );
}

/** The VM behind an address of a network: by its lease, else by its DHCP reservation. */
export function vmOfAddress(network: NetworkRecord | undefined, address: string, owners: Map<string, string>): string | undefined {
  if (!network) return undefined;
  const lease = network.leases.find((l) => l.ip === address);
  const reserved = network.definition.ips.flatMap((i) => i.dhcpHosts).find((h) => h.ip === address);
  const mac = lease?.mac ?? reserved?.mac;
  return mac ? owners.get(mac.toLowerCase()) : undefined;
}

export function forwardViews(saved: SavedForward[], networks: NetworkRecord[], domains: DomainRecord[]): ForwardView[] {
  const owners = vmsByMac(domains);
  return saved.map((f) => {
    const network = networkOfAddress(networks, f.toAddress);
    return {
      id: f.id,
      protocol: f.protocol,
      port: f.hostPorts,
      toAddress: f.toAddress,
      toPort: f.toPorts,
      network: network?.name,
      vm: vmOfAddress(network, f.toAddress, owners),
      complete: f.ruleCount === RULES_PER_FORWARD,
    };
  });
}

export const forwardColumns = [
  { header: 'ID', value: (f: ForwardView) => f.id, name: true },
  { header: 'PROTO', value: (f: ForwardView) => f.protocol },
  { header: 'PORT', value: (f: ForwardView) => formatPortRange(f.port) },
  { header: 'TO', value: (f: ForwardView) => (f.toAddress ? `${f.toAddress}:${formatPortRange(f.toPort)}` : undefined) },
  { header: 'VM', value: (f: ForwardView) => f.vm },
  { header: 'NETWORK', value: (f: ForwardView) => f.network },
  { header: 'COMPLETE', value: (f: ForwardView) => f.complete },
];

/** The JSON object of a port forward (net forward list, add, net info): ports as integers, a range as {first, last}. */
export function forwardJson(f: ForwardView) {
  return {
    id: f.id,
    protocol: f.protocol,
    port: portRangeJson(f.port),
    toAddress: f.toAddress,
    toPort: portRangeJson(f.toPort),
    network: f.network ?? null,
    vm: f.vm ?? null,
    complete: f.complete,
  };
}

export function portRangeJson(r: PortRange) {
  return { first: r.start, last: r.end };
}
