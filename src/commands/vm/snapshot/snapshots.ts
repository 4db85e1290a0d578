/**
 * What the `vm snapshot` verbs share: a VM's snapshots (libvirt's internal
 * snapshots: disk state, and memory for a running VM, inside its qcow2 disks)
 * read in one virsh process, their columns, and the snapshot-name argument.
 */
import type { Context } from '../../../context.js';
import { UsageError } from '../../../errors.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { domainCalls, parseSnapshotList, type SnapshotEntry } from '../../../libvirt/domain-commands.js';
import type { Column } from '../../../output/table.js';
import { arg, verbOn } from '../../../verb.js';

/** A snapshot as -o json prints it (schemas/vm-snapshot-list.schema.json): parent is null for a root. */
export interface SnapshotRow extends Omit<SnapshotEntry, 'parent'> {
  parent: string | null;
  current: boolean;
}

/** The snapshots of a VM with the current one marked, from snapshot-list --parent and snapshot-current --name. */
export function snapshotRows(listOut: string, currentOut: string): SnapshotRow[] {
  const cur = currentOut.trim();
  return parseSnapshotList(listOut).map((s) => ({ name: s.name, createdAt: s.createdAt, state: s.state, parent: s.parent ?? null, current: s.name === cur }));
}

/** The VM's snapshots; exit 3 when the VM does not exist. */
export async function readSnapshots(ctx: Context, name: string): Promise<SnapshotRow[]> {
  const reads = { info: domainCalls.dominfo(name), list: domainCalls.snapshotList(name), current: domainCalls.snapshotCurrent(name) };
  const { out, stderr } = await ctx.virsh.batchWithStderr(reads);
  if (!out.info.trim()) throw ctx.virsh.errorOf(reads.info, stderr);
  return snapshotRows(out.list, out.current);
}

export const snapshotColumns: Column<SnapshotRow>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'CREATED', value: (s) => s.createdAt },
  { header: 'STATE', value: (s) => s.state },
  { header: 'PARENT', value: (s) => s.parent },
  { header: 'CURRENT', value: (s) => s.current },
];

export function requireSnapshot(ctx: Context, verb: string, name: string, snap: string | undefined): string {
  if (snap === undefined || snap === '') {
    throw new UsageError(`vm snapshot ${verb} needs the snapshot's name`, `list them with: ${kvmctlCommand(ctx.uri, 'vm', 'snapshot', 'list', name)}`);
  }
  return snap;
}

export const snapshotVmArg = arg('<name>', 'VM name');
export const snapshotNameArg = arg('<snapshot>', 'snapshot name');

/** A verb on the snapshots of one VM (`kvmctl vm snapshot VERB NAME …`). */
export const vmSnapshotsVerb = verbOn([snapshotVmArg]);

/** A verb on one snapshot of a VM (`kvmctl vm snapshot VERB NAME SNAPSHOT`). */
export const snapshotVerb = verbOn([snapshotVmArg, snapshotNameArg]);
