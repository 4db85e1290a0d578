/** `vm resume NAME`: lets a paused VM run again. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { verb } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse, unchanged } from './lifecycle.js';
import { ODD_NAMES, vmNameArg } from './vm-name.js';

export async function runVmResume(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'running') return unchanged(ctx, name, state, 'already running');
  if (state !== 'paused') throw refuse(name, state, 'resume', `only a paused VM can be resumed; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await ctx.virsh.run(domainCalls.resume(name));
  changed(ctx, name, 'running', 'resumed');
}

export const resumeCommand = verb({
  name: 'resume',
  description: 'resume a paused VM',
  args: [vmNameArg],
  examples: ['kvmctl vm resume web1'],
  notes: ODD_NAMES,
  run: (ctx, name) => runVmResume(ctx, name),
});
