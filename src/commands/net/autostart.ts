/** net autostart: libvirt starts the network when it starts (or not, with --disable). */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { load, unchanged } from './network-state.js';

export interface NetAutostartOptions {
  disable?: boolean;
}

export async function runNetAutostart(ctx: Context, name: string, opts: NetAutostartOptions): Promise<void> {
  const enable = !opts.disable;
  const net = await load(ctx, name);
  if (net.autostart === enable) return unchanged(ctx, name, `autostart already ${enable ? 'on' : 'off'}`, { autostart: enable });
  if (!net.persistent) {
    throw new RefusedError(`network ${name} is transient: libvirt cannot start it at boot`, 'define it persistently (kvmctl net create) to use autostart');
  }
  await ctx.virsh.run(networkCalls.autostart(name, enable));
  ctx.out.done(`network ${name}: autostart ${enable ? 'on' : 'off'}`, { name, changed: true, autostart: enable });
}

export function netAutostartVerb(app: App): Command {
  return new Command('autostart')
    .description('start the network when libvirt starts (or not, with --disable)')
    .argument('<name>', 'network name')
    .option('--disable', 'turn autostart off')
    .addHelpText('after', examples('kvmctl net autostart lab', 'kvmctl net autostart lab --disable'))
    .action(app.action(async (ctx, name: string, opts: NetAutostartOptions) => runNetAutostart(ctx, name, opts)));
}
