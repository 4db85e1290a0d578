/** net reserve | unreserve: static DHCP hosts, changed in the running network and its definition at once. */
import { HOST_LABEL as HOSTNAME } from '../../validate/hostname.js';
import { parseMac } from '../../validate/mac.js';
import type { Context } from '../../context.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { loadNetwork, netUpdateDhcpHostCommand, type NetworkRecord, type UpdateScope } from '../../libvirt/network-commands.js';
import { subnetOf, type DhcpHost } from '../../libvirt/network-xml.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { cidrFromTool, contains, formatCidr, lastAddress, parseIpv4 } from '../../net/ipv4.js';
import { vmsByMac } from './vm-owners.js';
import { kvmctlCommand } from '../../exec/command.js';

function parseAddress(text: string, flag: string): string {
  if (parseIpv4(text) === undefined) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: not an IPv4 address`, `e.g. ${flag} 192.168.122.50`);
  return text;
}

/** The network's IPv4 <ip> element and its index among the <ip> elements (net-update's --parent-index). */
function dhcpIp(net: NetworkRecord) {
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
function scopeOf(net: NetworkRecord): UpdateScope {
  return { live: net.active, config: net.persistent };
}

export async function runNetReserve(ctx: Context, name: string, opts: { mac: string; ip: string; hostname?: string }): Promise<void> {
  const mac = parseMac(opts.mac);
  const address = parseAddress(opts.ip, '--ip');
  if (opts.hostname !== undefined && !HOSTNAME.test(opts.hostname)) {
    throw new UsageError(`invalid --hostname ${JSON.stringify(opts.hostname)}`, 'use one DNS label: letters, digits and -, at most 63 characters');
  }
  await ctx.withLock(`net ${name}`, async () => {
    const net = await loadNetwork(ctx.runner, ctx.uri, name, { leases: true });
    const { ip, parentIndex } = dhcpIp(net);
    const block = cidrFromTool(subnetOf(ip));
    const n = parseIpv4(address) as number;
    if (!block || !contains(block, n) || n === block.network || n === lastAddress(block)) {
      throw new UsageError(`${address} is not a host address of network ${name} (${block ? formatCidr(block) : '?'})`, 'reserve an address inside the network\'s subnet');
    }
    if (address === ip.address) {
      throw new UsageError(`${address} is the gateway of network ${name}`, 'reserve another address');
    }
    const host: DhcpHost = { mac, ip: address, name: opts.hostname };
    const sameMac = ip.dhcpHosts.find((h) => h.mac?.toLowerCase() === mac);
    const sameIp = ip.dhcpHosts.find((h) => h.ip === address);
    if (sameMac && sameMac === sameIp && (sameMac.name ?? undefined) === opts.hostname) {
      return ctx.out.done(`reservation ${mac} -> ${address} on network ${name} unchanged`, { network: name, changed: false, ...host });
    }
    const clash = sameMac ?? sameIp;
    if (clash) {
      throw new ConflictError(
        `network ${name} already has a reservation ${clash.mac ?? '?'} -> ${clash.ip ?? '?'}${clash.name ? ` (${clash.name})` : ''}`,
        `remove it first: ${kvmctlCommand(ctx.uri, 'net', 'unreserve', name, ...(clash.mac ? ['--mac', clash.mac] : ['--ip', clash.ip ?? 'IP']))}`,
      );
    }
    const holder = net.leases.find((l) => l.ip === address && l.mac !== mac);
    if (holder) {
      const vm = vmsByMac(await loadDomains(ctx.runner, ctx.uri)).get(holder.mac);
      throw new ConflictError(
        `${address} is leased to ${holder.mac}${vm ? ` (VM ${vm})` : ''} on network ${name} until ${holder.expiryTime}`,
        'reserve another address, or wait for that lease to end',
      );
    }
    await runVirsh(ctx.runner, netUpdateDhcpHostCommand(ctx.uri, name, 'add-last', host, scopeOf(net), parentIndex), { kind: 'network', name });
    const when = net.active ? 'the next DHCP request of that MAC gets it' : 'it applies when the network starts';
    ctx.out.done(`reserved ${address} for ${mac} on network ${name}; ${when}`, { network: name, changed: true, ...host });
  });
}

export async function runNetUnreserve(ctx: Context, name: string, opts: { mac?: string; ip?: string }): Promise<void> {
  if ((opts.mac === undefined) === (opts.ip === undefined)) {
    throw new UsageError('give exactly one of --mac and --ip', `e.g. ${kvmctlCommand(ctx.uri, 'net', 'unreserve', name, '--mac', '52:54:00:12:34:56')}`);
  }
  const mac = opts.mac !== undefined ? parseMac(opts.mac) : undefined;
  const address = opts.ip !== undefined ? parseAddress(opts.ip, '--ip') : undefined;
  await ctx.withLock(`net ${name}`, async () => {
    const net = await loadNetwork(ctx.runner, ctx.uri, name, { leases: false });
    const { ip, parentIndex } = dhcpIp(net);
    const entry = ip.dhcpHosts.find((h) => (mac !== undefined ? h.mac?.toLowerCase() === mac : h.ip === address));
    if (!entry) {
      throw new NotFoundError(`network ${name} has no reservation for ${mac ?? address}`, `list its reservations with: ${kvmctlCommand(ctx.uri, 'net', 'info', name)}`);
    }
    // libvirt matches the entry to delete on every attribute given, so pass it as defined.
    await runVirsh(ctx.runner, netUpdateDhcpHostCommand(ctx.uri, name, 'delete', entry, scopeOf(net), parentIndex), { kind: 'network', name });
    ctx.out.done(`removed reservation ${entry.mac ?? '?'} -> ${entry.ip ?? '?'} from network ${name}`, { network: name, changed: true, ...entry });
  });
}
