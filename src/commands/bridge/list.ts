import type { Context } from '../../context.js';
import { KvmctlError } from '../../errors.js';
import { domstatsCall, interfaceNames, parseDomstats } from '../../libvirt/domstats.js';
import { verb } from '../../verb.js';
import { bridgesOf, type Link } from '../../net/ip.js';
import type { BridgeFacts } from '../../host/facts.js';
import { bridgeColumns } from '../../host/fact-columns.js';
import { bridgesJson } from './bridge-json.js';

export interface BridgeView extends BridgeFacts {
  /** The VMs with an interface (vnetN) on the bridge. */
  vms: string[];
}

/**
 * vnetN -> VM for every running VM, from one `virsh domstats`. Without libvirt
 * (not installed, not running) the map is empty and `warning` says why.
 */
export async function vmsByInterface(ctx: Context): Promise<{ owners: Map<string, string>; warning?: string }> {
  try {
    const stats = parseDomstats(await ctx.virsh.run(domstatsCall(['interface'], 'active')));
    return { owners: new Map(stats.flatMap((d) => interfaceNames(d.stats).map((i) => [i, d.name] as const))) };
  } catch (e) {
    if (!(e instanceof KvmctlError)) throw e;
    return { owners: new Map(), warning: e.message };
  }
}

export function bridgeViews(links: Link[], owners: Map<string, string>): BridgeView[] {
  return bridgesOf(links).map((b) => {
    const ports = b.ports.map((p) => ({ name: p, vm: owners.get(p) }));
    return { ...b, ports, vms: [...new Set(ports.flatMap((p) => (p.vm ? [p.vm] : [])))] };
  });
}

/** One `ip` and one `virsh` process, however many bridges, ports and VMs exist. */
export async function runBridgeList(ctx: Context): Promise<void> {
  const [links, { owners, warning }] = await Promise.all([ctx.ip.links(), vmsByInterface(ctx)]);
  if (warning) ctx.out.warn(`VM names are not shown: ${warning}`);
  const views = bridgeViews(links, owners);
  ctx.out.list([...bridgeColumns, { header: 'VMS', value: (b: BridgeView) => b.vms.join(', ') }], views, bridgesJson(links, owners));
  if (!ctx.out.json && views.length === 0) ctx.out.info('no Linux bridges; create one with: kvmctl bridge create br0');
}

export const bridgeListVerb = verb('list', 'list bridges: state, MTU, STP, addresses, ports and the VMs attached (vnetN -> VM)', runBridgeList, {
  examples: ['kvmctl bridge list', 'kvmctl bridge list -o json'],
});
