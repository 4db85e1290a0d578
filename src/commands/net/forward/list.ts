import type { Context } from '../../../context.js';
import { KvmctlError } from '../../../errors.js';
import type { DomainRecord } from '../../../libvirt/domains.js';
import { loadDomains } from '../../../libvirt/domains.js';
import { loadNetworks, type NetworkRecord } from '../../../libvirt/network-commands.js';
import { savedForwards } from '../../../net/port-forward.js';
import { forwardColumns, forwardJson, forwardViews } from './view.js';
import { verb } from '../../../verb.js';

/**
 * kvmctl's port forwards from one iptables-save; the VM and network behind
 * each target from four virsh processes at most. Without libvirt the forwards
 * are still listed.
 */
export async function runForwardList(ctx: Context): Promise<void> {
  const saved = savedForwards(await ctx.iptables.load());
  let networks: NetworkRecord[] = [];
  let domains: DomainRecord[] = [];
  if (saved.length > 0) {
    try {
      [networks, domains] = await Promise.all([loadNetworks(ctx.runner, ctx.uri, { leases: true }), loadDomains(ctx.runner, ctx.uri)]);
    } catch (e) {
      if (!(e instanceof KvmctlError)) throw e;
      ctx.out.warn(`VM and network names are not shown: ${e.message}`);
    }
  }
  const views = forwardViews(saved, networks, domains);
  ctx.out.list(forwardColumns, views, views.map(forwardJson));
  if (!ctx.out.json && views.length === 0) ctx.out.info('no port forwards; add one with: kvmctl net forward add --port 2222 --to VM');
}

export const forwardListVerb = verb('list', "list kvmctl's port forwards with the VM and network behind each", runForwardList, {
  examples: ['kvmctl net forward list', 'kvmctl net forward list -o json'],
});
