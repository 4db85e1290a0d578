/** Which VM owns a MAC address, uses a network or sits on a bridge, from loadDomains' inventory. */
import { isActive, type DomainRecord } from '../../libvirt/domains.js';

/** MAC (lower case) -> VM name, over every defined VM's interfaces. */
export function vmsByMac(domains: DomainRecord[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const d of domains) {
    for (const nic of d.definition.interfaces) if (nic.mac) map.set(nic.mac.toLowerCase(), d.name);
  }
  return map;
}

/** VMs with an interface on the libvirt network. */
export function vmsOnNetwork(domains: DomainRecord[], network: string): DomainRecord[] {
  return domains.filter((d) => d.definition.interfaces.some((i) => i.type === 'network' && i.source.network === network));
}

/** VMs with an interface on the host bridge: type='bridge' ones, and those of a network built on it. */
export function vmsOnBridge(domains: DomainRecord[], bridge: string, networksOnBridge: string[] = []): DomainRecord[] {
  return domains.filter((d) =>
    d.definition.interfaces.some((i) => (i.type === 'bridge' && i.source.bridge === bridge) || (i.type === 'network' && networksOnBridge.includes(i.source.network))),
  );
}

export function running(domains: DomainRecord[]): DomainRecord[] {
  return domains.filter((d) => isActive(d.state));
}
