/** `vm snapshot list NAME`: name, time, state, parent, and which is current. */
import type { Context } from '../../../context.js';
import { checkVmName } from '../domain-state.js';
import { readSnapshots, snapshotColumns, vmSnapshotsVerb } from './snapshots.js';

export async function runSnapshotList(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const rows = await readSnapshots(ctx, name);
  if (rows.length === 0 && !ctx.out.json) ctx.out.info(`VM ${name} has no snapshots`);
  ctx.out.list(snapshotColumns, rows);
}

export const snapshotListCommand = vmSnapshotsVerb('list', "list a VM's snapshots", runSnapshotList, {
  examples: ['kvmctl vm snapshot list web1', 'kvmctl vm snapshot list web1 -o json'],
});
