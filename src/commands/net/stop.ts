/** net stop: stops a network, refused while running VMs use it unless --force. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { changedTo, load, netsVerb, unchanged } from './network-state.js';
import { running, vmsOnNetwork } from './vm-owners.js';
import { flag, type OptionsOf } from '../../verb.js';

const options = { force: flag('--force', 'stop it even though running VMs use it (they lose their network)') };
export type NetStopOptions = OptionsOf<typeof options>;

/** Names the running VMs on a network, for refusals. */
async function runningUsers(ctx: Context, name: string): Promise<string[]> {
  return running(vmsOnNetwork(await loadDomains(ctx.runner, ctx.uri), name)).map((d) => d.name);
}

export async function runNetStop(ctx: Context, name: string, opts: NetStopOptions): Promise<void> {
  const net = await load(ctx, name);
  if (!net.active) return unchanged(ctx, net, 'not active');
  const users = await runningUsers(ctx, name);
  if (users.length > 0 && !opts.force) {
    throw new RefusedError(
      `network ${name} is in use by running VM(s): ${users.join(', ')}; stopping it cuts them off`,
      `shut them down first, or stop it anyway with: ${kvmctlCommand(ctx.uri, 'net', 'stop', name, '--force')}`,
    );
  }
  await ctx.virsh.run(networkCalls.destroy(name));
  const gone = net.persistent ? '' : ' (it was transient, so it no longer exists)';
  ctx.out.done(`network ${name} stopped${gone}`, { ...changedTo(net, { active: false }), removed: !net.persistent });
}

export const netStopVerb = netsVerb('stop', 'stop a network (refused while running VMs use it, unless --force)', runNetStop, {
  options,
  examples: ['kvmctl net stop lab', 'kvmctl net stop lab --force'],
});
