/** net stop: stops a network, refused while running VMs use it unless --force. */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { load, unchanged } from './network-state.js';
import { running, vmsOnNetwork } from './vm-owners.js';

export interface NetStopOptions {
  force?: boolean;
}

/** Names the running VMs on a network, for refusals. */
async function runningUsers(ctx: Context, name: string): Promise<string[]> {
  return running(vmsOnNetwork(await loadDomains(ctx.runner, ctx.uri), name)).map((d) => d.name);
}

export async function runNetStop(ctx: Context, name: string, opts: NetStopOptions): Promise<void> {
  const net = await load(ctx, name);
  if (!net.active) return unchanged(ctx, name, 'not active', { active: false });
  const users = await runningUsers(ctx, name);
  if (users.length > 0 && !opts.force) {
    throw new RefusedError(
      `network ${name} is in use by running VM(s): ${users.join(', ')}; stopping it cuts them off`,
      `shut them down first, or stop it anyway with: ${kvmctlCommand(ctx.uri, 'net', 'stop', name, '--force')}`,
    );
  }
  await ctx.virsh.run(networkCalls.destroy(name));
  const gone = net.persistent ? '' : ' (it was transient, so it no longer exists)';
  ctx.out.done(`network ${name} stopped${gone}`, { name, changed: true, active: false, removed: !net.persistent });
}

export function netStopVerb(app: App): Command {
  return new Command('stop')
    .description('stop a network (refused while running VMs use it, unless --force)')
    .argument('<name>', 'network name')
    .option('--force', 'stop it even though running VMs use it (they lose their network)')
    .addHelpText('after', examples('kvmctl net stop lab', 'kvmctl net stop lab --force'))
    .action(app.action(async (ctx, name: string, opts: NetStopOptions) => runNetStop(ctx, name, opts)));
}
