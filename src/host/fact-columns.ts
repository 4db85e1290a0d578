/** Table columns of the host's facts, shared by `host` and the nouns that list the same objects (bridge list, net nat list). */
import type { NatRule } from '../net/rule-owner.js';
import type { BridgeFacts, NetworkFacts } from './facts.js';

export const bridgeColumns = [
  { header: 'NAME', value: (b: BridgeFacts) => b.name },
  { header: 'STATE', value: (b: BridgeFacts) => b.state },
  { header: 'MTU', value: (b: BridgeFacts) => b.mtu },
  { header: 'STP', value: (b: BridgeFacts) => b.stp },
  { header: 'ADDRESSES', value: (b: BridgeFacts) => b.addresses.join(', ') },
  { header: 'PORTS', value: (b: BridgeFacts) => b.ports.map((p) => (p.vm ? `${p.name} (${p.vm})` : p.name)).join(', ') },
];

export const natColumns = [
  { header: 'CHAIN', value: (r: NatRule) => r.chain },
  { header: 'TARGET', value: (r: NatRule) => r.target },
  { header: 'PROTO', value: (r: NatRule) => r.protocol },
  { header: 'SOURCE', value: (r: NatRule) => r.source },
  { header: 'DESTINATION', value: (r: NatRule) => (r.destination ? `${r.destination}${r.dport ? `:${r.dport}` : ''}` : r.dport ? `:${r.dport}` : undefined) },
  { header: 'OUT', value: (r: NatRule) => r.outIface },
  { header: 'TO', value: (r: NatRule) => r.to },
  { header: 'OWNER', value: (r: NatRule) => r.owner },
];

export const networkColumns = [
  { header: 'NAME', value: (n: NetworkFacts) => n.name },
  { header: 'STATE', value: (n: NetworkFacts) => (n.active ? 'active' : 'inactive') },
  { header: 'AUTOSTART', value: (n: NetworkFacts) => n.autostart },
  { header: 'BRIDGE', value: (n: NetworkFacts) => n.bridge },
  { header: 'MODE', value: (n: NetworkFacts) => n.mode },
  { header: 'SUBNET', value: (n: NetworkFacts) => n.subnet },
  { header: 'DHCP', value: (n: NetworkFacts) => n.dhcpRange },
];
