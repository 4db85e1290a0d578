/** `vm suspend NAME`: pauses a running VM; it keeps its memory. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { verb } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse, unchanged } from './lifecycle.js';
import { ODD_NAMES, vmNameArg } from './vm-name.js';

export async function runVmSuspend(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'paused') return unchanged(ctx, name, state, 'already paused');
  if (state !== 'running') throw refuse(name, state, 'suspend', `only a running VM can be suspended; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await ctx.virsh.run(domainCalls.suspend(name));
  changed(ctx, name, 'paused', 'suspended (paused)');
}

export const suspendCommand = verb({
  name: 'suspend',
  description: 'pause a running VM (it keeps its memory)',
  args: [vmNameArg],
  examples: ['kvmctl vm suspend web1'],
  notes: ODD_NAMES,
  run: (ctx, name) => runVmSuspend(ctx, name),
});
