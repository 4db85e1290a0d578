/** net reserve: a static DHCP host, added to the running network and its definition at once. */
import { HOST_LABEL as HOSTNAME } from '../../validate/hostname.js';
import { parseMac } from '../../validate/mac.js';
import type { Context } from '../../context.js';
import { ConflictError, UsageError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { loadNetwork, networkCalls } from '../../libvirt/network-commands.js';
import { type DhcpHost, subnetOf } from '../../libvirt/network-xml.js';
import { cidrFromTool, contains, formatCidr, lastAddress, parseIpv4 } from '../../net/ipv4.js';
import { vmsByMac } from './vm-owners.js';
import { kvmctlCommand } from '../../exec/command.js';
import { dhcpIp, parseAddress, scopeOf } from './dhcp-hosts.js';
import { netVerb } from './network-state.js';
import { type OptionsOf, required, value } from '../../verb.js';
import { reservationJson } from './network-json.js';

const options = {
  mac: required('--mac <mac>', "the VM interface's MAC address"),
  ip: required('--ip <ip>', "the address to give it, inside the network's subnet"),
  hostname: value('--hostname <name>', 'the host name dnsmasq gives it'),
};
export type NetReserveOptions = OptionsOf<typeof options>;

export async function runNetReserve(ctx: Context, name: string, opts: NetReserveOptions): Promise<void> {
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
      return ctx.out.done(`reservation ${mac} -> ${address} on network ${name} unchanged`, { changed: false, ...reservationJson(name, host, ip.prefix, undefined) }, mac);
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
    await ctx.virsh.run(networkCalls.updateDhcpHost(name, 'add-last', host, scopeOf(net), parentIndex));
    const when = net.active ? 'the next DHCP request of that MAC gets it' : 'it applies when the network starts';
    ctx.out.done(`reserved ${address} for ${mac} on network ${name}; ${when}`, { changed: true, ...reservationJson(name, host, ip.prefix, undefined) }, mac);
  });
}

export const netReserveVerb = netVerb('reserve', 'give a MAC a fixed DHCP address (in the running network and its definition)', runNetReserve, {
  options,
  examples: ['kvmctl net reserve default --mac 52:54:00:12:34:56 --ip 192.168.122.50', 'kvmctl net reserve lab --mac 52:54:00:12:34:56 --ip 10.10.0.10 --hostname web1'],
});
