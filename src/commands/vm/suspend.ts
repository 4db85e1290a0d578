/** `vm suspend NAME`: pauses a running VM; it keeps its memory. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, refuse, unchanged } from './lifecycle.js';
import { vmVerb } from './verb.js';

export function suspendCommand(app: App): Command {
  return vmVerb('suspend', 'pause a running VM (it keeps its memory)', 'kvmctl vm suspend web1').action(app.action(async (ctx, name: string) => runVmSuspend(ctx, name)));
}

export async function runVmSuspend(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'paused') return unchanged(ctx, name, state, 'already paused');
  if (state !== 'running') throw refuse(name, state, 'suspend', `only a running VM can be suspended; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.suspend(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'paused', 'suspended (paused)');
}
