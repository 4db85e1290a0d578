/** `vm destroy NAME`: powers a VM off at once; its disks and definition stay. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, unchanged } from './lifecycle.js';
import { vmVerb } from './verb.js';

export function destroyCommand(app: App): Command {
  return vmVerb('destroy', 'power a VM off at once (keeps its disks and definition)', 'kvmctl vm destroy web1').action(app.action(async (ctx, name: string) => runVmDestroy(ctx, name)));
}

export async function runVmDestroy(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (!isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  await runVirsh(ctx.runner, domainCommands.destroy(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'shutoff', 'powered off (destroyed; its disks and definition are kept)');
}
