/** `vm snapshot revert NAME SNAP`: the VM's state becomes the snapshot's (running or shut off). */
import type { Context } from '../../../context.js';
import { domainCalls } from '../../../libvirt/domain-commands.js';
import { checkVmName } from '../domain-state.js';
import { requireSnapshot, snapshotVerb } from './snapshots.js';

export async function runSnapshotRevert(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'revert', name, snap);
  await ctx.virsh.run({ ...domainCalls.snapshotRevert(name, snapshot), subject: { kind: 'snapshot', name: snapshot } });
  ctx.out.done(`vm ${name} reverted to snapshot ${snapshot}`, { changed: !ctx.dryRun, name, snapshot });
}

export const snapshotRevertCommand = snapshotVerb('revert', "put the VM back to a snapshot (its state then is the snapshot's: running or shut off)", runSnapshotRevert, {
  examples: ['kvmctl vm snapshot revert web1 before-upgrade'],
});
