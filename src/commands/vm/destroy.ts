/** `vm destroy NAME`: powers a VM off at once; its disks and definition stay. */
import type { Context } from '../../context.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { verb } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, unchanged } from './lifecycle.js';
import { ODD_NAMES, vmNameArg } from './vm-name.js';

export async function runVmDestroy(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (!isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  await ctx.virsh.run(domainCalls.destroy(name));
  changed(ctx, name, 'shutoff', 'powered off (destroyed; its disks and definition are kept)');
}

export const destroyCommand = verb({
  name: 'destroy',
  description: 'power a VM off at once (keeps its disks and definition)',
  args: [vmNameArg],
  examples: ['kvmctl vm destroy web1'],
  notes: ODD_NAMES,
  run: (ctx, name) => runVmDestroy(ctx, name),
});
