/** `vm resume NAME`: lets a paused VM run again. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse, unchanged } from './lifecycle.js';
import { vmVerb } from './verb.js';

export function resumeCommand(app: App): Command {
  return vmVerb('resume', 'resume a paused VM', 'kvmctl vm resume web1').action(app.action(async (ctx, name: string) => runVmResume(ctx, name)));
}

export async function runVmResume(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'running') return unchanged(ctx, name, state, 'already running');
  if (state !== 'paused') throw refuse(name, state, 'resume', `only a paused VM can be resumed; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.resume(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'resumed');
}
