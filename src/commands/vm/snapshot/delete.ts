/** `vm snapshot delete NAME SNAP`: the VM keeps its current state. */
import type { Context } from '../../../context.js';
import { domainCalls } from '../../../libvirt/domain-commands.js';
import { checkVmName } from '../domain-state.js';
import { requireSnapshot, snapshotVerb } from './snapshots.js';

export async function runSnapshotDelete(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'delete', name, snap);
  await ctx.virsh.run({ ...domainCalls.snapshotDelete(name, snapshot), subject: { kind: 'snapshot', name: snapshot } });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} deleted`, { changed: !ctx.dryRun, name, snapshot });
}

export const snapshotDeleteCommand = snapshotVerb({
  name: 'delete',
  description: 'delete a snapshot (the VM keeps its current state)',
  examples: ['kvmctl vm snapshot delete web1 before-upgrade'],
  run: (ctx, name, snap) => runSnapshotDelete(ctx, name, snap),
});
