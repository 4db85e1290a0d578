/** `vm reboot NAME`: asks the guest to reboot through ACPI; only a running VM can. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { verb } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse } from './lifecycle.js';
import { ODD_NAMES, vmNameArg } from './vm-name.js';

export async function runVmReboot(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state !== 'running') throw refuse(name, state, 'reboot', state === 'paused' ? `resume it first: ${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}` : `start it instead: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await ctx.virsh.run(domainCalls.reboot(name));
  changed(ctx, name, 'running', 'asked to reboot (ACPI)');
}

export const rebootCommand = verb({
  name: 'reboot',
  description: 'ask the guest to reboot (ACPI)',
  args: [vmNameArg],
  examples: ['kvmctl vm reboot web1'],
  notes: ODD_NAMES,
  run: (ctx, name) => runVmReboot(ctx, name),
});
