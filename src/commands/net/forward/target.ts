/** Parsing `--port` and `--to`, and finding the address of a VM target. */
import { value } from '../../../verb.js';
import { NotFoundError, RefusedError, UsageError } from '../../../errors.js';
import type { DomainRecord } from '../../../libvirt/domains.js';
import type { NetworkRecord } from '../../../libvirt/network-commands.js';
import type { PortRange, Protocol } from '../../../net/port-forward.js';
import { parseIpv4 } from '../../../net/ipv4.js';
import { validateName } from '../../../validate/names.js';
import { kvmctlCommand } from '../../../exec/command.js';

/** --proto of net forward add and delete. */
export const protoOption = value('--proto <proto>', 'tcp or udp', { choices: ['tcp', 'udp'], default: 'tcp' });

/** The port a VM target gets when --to names none: ssh. */
export const DEFAULT_VM_PORT = 22;

export function parseProtocol(text: string | undefined): Protocol {
  const p = text ?? 'tcp';
  if (p !== 'tcp' && p !== 'udp') throw new UsageError(`invalid --proto ${JSON.stringify(p)}`, 'use --proto tcp or --proto udp');
  return p;
}

/** What forward delete takes: a port or range with --proto, or the ID list and -o name print (tcp-2222, udp-8000-8010), whose protocol wins. */
export function parseForwardRef(text: string, proto: string | undefined): { protocol: Protocol; ports: PortRange } {
  const id = /^(tcp|udp)-(.+)$/.exec(text);
  if (id) return { protocol: id[1] as Protocol, ports: parsePortRange(id[2] ?? '', 'PORT') };
  return { protocol: parseProtocol(proto), ports: parsePortRange(text, 'PORT') };
}

/** "2222" or "8000-8010": ports 1-65535, a range in order. */
export function parsePortRange(text: string, what: string): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const start = Number(m?.[1]);
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  if (!m) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}`, `give a port (1-65535) or a range FROM-TO, e.g. ${what} 2222`);
  for (const p of [start, end]) {
    if (p < 1 || p > 65535) throw new UsageError(`invalid ${what} ${text}: ${p} is not a port (1-65535)`, 'ports go from 1 to 65535');
  }
  if (start > end) throw new UsageError(`invalid ${what} ${text}: the range is not in order`, `did you mean ${end}-${start}?`);
  return { start, end };
}

export type ForwardTarget = { kind: 'address'; address: string; ports: PortRange } | { kind: 'vm'; vm: string; ports: PortRange };

/**
 * --to VM[:PORT] or IP:PORT. A VM's port defaults to 22; a range of host ports
 * keeps its ports, so its target names the same range or none.
 */
export function parseTarget(text: string, hostPorts: PortRange): ForwardTarget {
  const colon = text.lastIndexOf(':');
  const host = colon >= 0 ? text.slice(0, colon) : text;
  const portText = colon >= 0 ? text.slice(colon + 1) : undefined;
  const isRange = hostPorts.start !== hostPorts.end;
  let ports = portText !== undefined ? parsePortRange(portText, '--to port') : undefined;
  if (isRange) {
    if (ports && (ports.start !== hostPorts.start || ports.end !== hostPorts.end)) {
      throw new UsageError(`a range of ports forwards to the same ports: --to ${host}:${portText} does not match --port ${hostPorts.start}-${hostPorts.end}`, `use --to ${host}:${hostPorts.start}-${hostPorts.end}, or forward one port at a time`);
    }
    ports = hostPorts;
  } else if (ports && ports.start !== ports.end) {
    throw new UsageError(`--to ${text}: one host port forwards to one port`, 'give a single port after the colon');
  }
  if (parseIpv4(host) !== undefined) {
    if (!ports) throw new UsageError(`--to ${text}: an address needs a port`, `e.g. --to ${host}:22`);
    return { kind: 'address', address: host, ports };
  }
  if (/^[\d.]+$/.test(host)) throw new UsageError(`--to ${text}: ${host} is not an IPv4 address`, 'give IP:PORT or the name of a VM');
  validateName('VM', host);
  return { kind: 'vm', vm: host, ports: ports ?? { start: DEFAULT_VM_PORT, end: DEFAULT_VM_PORT } };
}

/**
 * The address of a VM on a network: its DHCP reservation (stable), else its
 * current lease. `network` narrows the search to one network.
 */
export function vmAddress(vmName: string, domains: DomainRecord[], networks: NetworkRecord[], network?: string, uri?: string): { address: string; network: string; reserved: boolean } {
  const vm = domains.find((d) => d.name === vmName);
  if (!vm) throw new NotFoundError(`VM ${JSON.stringify(vmName)} not found`, 'list VMs with: kvmctl vm list', { object: { kind: 'vm', name: vmName } });
  const nics = vm.definition.interfaces.filter((i) => i.type === 'network' && (network === undefined || i.source.network === network));
  if (nics.length === 0) {
    throw new RefusedError(
      `VM ${vmName} has no interface on ${network !== undefined ? `network ${network}` : 'a libvirt network'}`,
      'forward to its address instead: --to IP:PORT',
    );
  }
  for (const nic of nics) {
    if (nic.type !== 'network' || !nic.mac) continue;
    const net = networks.find((n) => n.name === nic.source.network);
    const mac = nic.mac.toLowerCase();
    const reserved = net?.definition.ips.flatMap((i) => i.dhcpHosts).find((h) => h.mac?.toLowerCase() === mac && h.ip);
    if (net && reserved?.ip) return { address: reserved.ip, network: net.name, reserved: true };
    const lease = net?.leases.find((l) => l.mac === mac && l.protocol === 'ipv4');
    if (net && lease) return { address: lease.ip, network: net.name, reserved: false };
  }
  const first = nics[0];
  const netName = first?.type === 'network' ? first.source.network : (network ?? '?');
  throw new RefusedError(
    `VM ${vmName} has no address on network ${netName} yet (no lease, no reservation)`,
    `start it and wait for its lease, or reserve one: ${kvmctlCommand(uri, 'net', 'reserve', netName, '--mac', first?.mac ?? 'MAC', '--ip', 'IP')}`,
  );
}
