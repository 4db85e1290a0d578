/** `vm reboot NAME`: asks the guest to reboot through ACPI; only a running VM can. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse } from './lifecycle.js';
import { vmVerb } from './verb.js';

export function rebootCommand(app: App): Command {
  return vmVerb('reboot', 'ask the guest to reboot (ACPI)', 'kvmctl vm reboot web1').action(app.action(async (ctx, name: string) => runVmReboot(ctx, name)));
}

export async function runVmReboot(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state !== 'running') throw refuse(name, state, 'reboot', state === 'paused' ? `resume it first: ${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}` : `start it instead: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.reboot(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'asked to reboot (ACPI)');
}
