/** net start: starts a network ("unchanged" when it is active). */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { load, unchanged } from './network-state.js';

export async function runNetStart(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  if (net.active) return unchanged(ctx, name, 'already active', { active: true });
  await ctx.virsh.run(networkCalls.start(name));
  ctx.out.done(`network ${name} started`, { name, changed: true, active: true });
}

export function netStartVerb(app: App): Command {
  return new Command('start')
    .description('start a network')
    .argument('<name>', 'network name')
    .addHelpText('after', examples('kvmctl net start lab'))
    .action(app.action(async (ctx, name: string) => runNetStart(ctx, name)));
}
