/** net start: starts a network ("unchanged" when it is active). */
import type { Context } from '../../context.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { changedTo, load, netsVerb, unchanged } from './network-state.js';

export async function runNetStart(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  if (net.active) return unchanged(ctx, net, 'already active');
  await ctx.virsh.run(networkCalls.start(name));
  ctx.out.done(`network ${name} started`, changedTo(net, { active: true }));
}

export const netStartVerb = netsVerb('start', 'start a network', runNetStart, {
  examples: ['kvmctl net start lab'],
});
