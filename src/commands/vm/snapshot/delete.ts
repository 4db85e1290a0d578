/** `vm snapshot delete NAME SNAP`: the VM keeps its current state. */
import type { Context } from '../../../context.js';
import { domainCalls } from '../../../libvirt/domain-commands.js';
import { checkVmName } from '../domain-state.js';
import { names } from '../../../verb.js';
import { requireSnapshot, vmSnapshotsVerb } from './snapshots.js';

export async function runSnapshotDelete(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'delete', name, snap);
  await ctx.virsh.run({ ...domainCalls.snapshotDelete(name, snapshot), subject: { kind: 'snapshot', name: snapshot } });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} deleted`, { changed: !ctx.dryRun, name, snapshot });
}

export const snapshotDeleteCommand = vmSnapshotsVerb('delete', 'delete a snapshot (the VM keeps its current state)', runSnapshotDelete, {
  args: [names('<snapshot...>', 'snapshot name(s)', { kind: 'snapshot', serial: "each delete rewrites the VM's disks (and libvirt moves the snapshot's children to its parent); two at once would change the same files" })],
  ifExists: { kind: 'snapshot', name: (_vm, snap) => snap, keys: (vm, snap) => ({ name: vm, snapshot: snap }) },
  examples: ['kvmctl vm snapshot delete web1 before-upgrade', 'kvmctl vm snapshot delete web1 daily-1 daily-2 --if-exists'],
});
