import type { Context } from '../../context.js';
import { loadDomains } from '../../libvirt/domains.js';
import { loadNetwork, loadNetworks } from '../../libvirt/network-commands.js';
import { leaseColumns, type LeaseView } from './info.js';
import { vmsByMac } from './vm-owners.js';
import { leaseJson } from './network-json.js';
import { kvmctlCommand } from '../../exec/command.js';
import { arg, verb } from '../../verb.js';

const columns = [{ header: 'NETWORK', value: (l: LeaseView) => l.network }, ...leaseColumns];

/**
 * DHCP leases of one network or of all, with the VM that owns each MAC: four
 * virsh processes at most, however many networks and VMs exist.
 */
export async function runNetLeases(ctx: Context, name: string | undefined): Promise<void> {
  const networks = name !== undefined ? [await loadNetwork(ctx.runner, ctx.uri, name, { leases: true })] : await loadNetworks(ctx.runner, ctx.uri, { leases: true });
  const owners = vmsByMac(await loadDomains(ctx.runner, ctx.uri));
  const leases: LeaseView[] = networks.flatMap((n) => n.leases.map((l) => ({ network: n.name, ...l, vm: owners.get(l.mac) })));
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
