/** net unreserve: removes a static DHCP host, by MAC or by IP, from the running network and its definition. */
import { parseMac } from '../../validate/mac.js';
import type { Context } from '../../context.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { loadNetwork, networkCalls } from '../../libvirt/network-commands.js';
import { kvmctlCommand } from '../../exec/command.js';
import { dhcpIp, parseAddress, scopeOf } from './dhcp-hosts.js';
import { netVerb } from './network-state.js';
import { type OptionsOf, value } from '../../verb.js';
import { reservationJson } from './network-json.js';

const options = {
  mac: value('--mac <mac>', 'the reserved MAC address'),
  ip: value('--ip <ip>', 'the reserved address'),
};
export type NetUnreserveOptions = OptionsOf<typeof options>;

export async function runNetUnreserve(ctx: Context, name: string, opts: NetUnreserveOptions): Promise<void> {
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
      throw new NotFoundError(`network ${name} has no reservation for ${mac ?? address}`, `list its reservations with: ${kvmctlCommand(ctx.uri, 'net', 'info', name)}`, {
        object: { kind: 'reservation', name: opts.mac ?? opts.ip ?? '' },
      });
    }
    // libvirt matches the entry to delete on every attribute given, so pass it as defined.
    await ctx.virsh.run(networkCalls.updateDhcpHost(name, 'delete', entry, scopeOf(net), parentIndex));
    ctx.out.done(`removed reservation ${entry.mac ?? '?'} -> ${entry.ip ?? '?'} from network ${name}`, { changed: true, ...reservationJson(name, entry, ip.prefix, undefined) }, entry.mac ?? entry.ip);
  });
}

export const netUnreserveVerb = netVerb('unreserve', 'remove a fixed DHCP address, by MAC or by IP', runNetUnreserve, {
  options,
  ifExists: { kind: 'reservation', name: (_net, o) => o.mac ?? o.ip ?? '', keys: (network, o) => ({ network, mac: o.mac ?? null, address: o.ip ?? null }) },
  examples: ['kvmctl net unreserve default --mac 52:54:00:12:34:56', 'kvmctl net unreserve default --ip 192.168.122.50'],
});
