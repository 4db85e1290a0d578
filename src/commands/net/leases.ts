import type { Context } from '../../context.js';
import { loadDomains } from '../../libvirt/domains.js';
import { loadNetwork, loadNetworks, type NetworkRecord } from '../../libvirt/network-commands.js';
import { leaseColumns, type LeaseView } from './info.js';
import { vmsByMac } from './vm-owners.js';
import { leaseJson } from './network-json.js';
import { kvmctlCommand } from '../../exec/command.js';
import { arg, verb } from '../../verb.js';

const columns = [{ header: 'NETWORK', value: (l: LeaseView) => l.network }, ...leaseColumns];

/**
 * DHCP leases of one network or of all, with the VM that owns each MAC: one
 * virsh process however many networks and VMs exist, a session of the
 * networks' rounds (one for a named network, two for all) and the domains' two.
 */
export async function loadLeases(ctx: Pick<Context, 'runner' | 'uri' | 'virsh'>, name: string | undefined): Promise<{ networks: NetworkRecord[]; leases: LeaseView[] }> {
  const { networks, domains } = await ctx.virsh.session(async (session) => {
    const networks = name !== undefined ? [await loadNetwork(ctx.runner, ctx.uri, name, { leases: true }, session)] : await loadNetworks(ctx.runner, ctx.uri, { leases: true }, session);
    return { networks, domains: await loadDomains(ctx.runner, ctx.uri, session) };
  });
  const owners = vmsByMac(domains);
  return { networks, leases: networks.flatMap((n) => n.leases.map((l) => ({ network: n.name, ...l, vm: owners.get(l.mac) }))) };
}

export async function runNetLeases(ctx: Context, name: string | undefined): Promise<void> {
  const { networks, leases } = await loadLeases(ctx, name);
  ctx.out.list(columns, leases, leases.map((l) => leaseJson(l.network, l, l.vm)));
  if (!ctx.out.json && leases.length === 0) {
    const inactive = networks.length === 1 && !networks[0]?.active;
    ctx.out.info(inactive ? `network ${JSON.stringify(networks[0]?.name)} is not active, so it has no leases (start it with: ${kvmctlCommand(ctx.uri, 'net', 'start', networks[0]?.name ?? 'NAME')})` : 'no DHCP leases');
  }
}

export const netLeasesVerb = verb('leases', 'DHCP leases of one network or all: MAC, IP, hostname, expiry and the VM that owns the MAC', runNetLeases, {
  args: [arg('[name]', 'network name (default: every active network)')],
  examples: ['kvmctl net leases', 'kvmctl net leases default -o json'],
  fanOut: true,
  listColumns: columns,
});
