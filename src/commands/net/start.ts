/** net start: starts a network ("unchanged" when it is active). */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import { netStartCommand } from '../../libvirt/network-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { load, subject, unchanged } from './network-state.js';

export async function runNetStart(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  if (net.active) return unchanged(ctx, name, 'already active', { active: true });
  await runVirsh(ctx.runner, netStartCommand(ctx.uri, name), subject(name));
  ctx.out.done(`network ${name} started`, { name, changed: true, active: true });
}

export function netStartVerb(app: App): Command {
  return new Command('start')
    .description('start a network')
    .argument('<name>', 'network name')
    .addHelpText('after', examples('kvmctl net start lab'))
    .action(app.action(async (ctx, name: string) => runNetStart(ctx, name)));
}
