/**
 * `vm snapshot create|list|revert|delete NAME [SNAP]`: libvirt's internal
 * snapshots (disk state, and memory for a running VM, inside its qcow2
 * disks). They need every writable disk to be qcow2; libvirt says which is not.
 */
import type { Context } from '../../context.js';
import { ConflictError, UsageError } from '../../errors.js';
import { domainArgs, domainCommands, parseSnapshotList, type SnapshotEntry } from '../../libvirt/domain-commands.js';
import { classifyVirshError, runVirsh, runVirshBatch, virshRead } from '../../libvirt/virsh.js';
import type { Column } from '../../output/table.js';
import { validateNewName } from '../../validate/names.js';
import { checkVmName } from './domain-state.js';
import { kvmctlCommand } from '../../exec/command.js';

export interface SnapshotRow extends SnapshotEntry {
  current: boolean;
}

/** The snapshots of a VM with the current one marked, from snapshot-list --parent and snapshot-current --name. */
export function snapshotRows(listOut: string, currentOut: string): SnapshotRow[] {
  const cur = currentOut.trim();
  return parseSnapshotList(listOut).map((s) => ({ ...s, current: s.name === cur }));
}

async function readSnapshots(ctx: Context, name: string): Promise<SnapshotRow[]> {
  const batch = await runVirshBatch(ctx.runner, ctx.uri, [domainArgs.dominfo(name), domainArgs.snapshotList(name), domainArgs.snapshotCurrent(name)]);
  const [info = '', list = '', current = ''] = batch.outputs;
  if (!info.trim()) throw classifyVirshError(virshRead(ctx.uri, domainArgs.dominfo(name)), { stdout: '', stderr: batch.stderr, exitCode: 1 }, { kind: 'vm', name }, ctx.uri);
  return snapshotRows(list, current);
}

/** snap-20261125-010203 (UTC): sortable, and unique unless two are taken within a second. */
export function defaultSnapshotName(now: Date): string {
  const iso = now.toISOString();
  return `snap-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export async function runSnapshotCreate(ctx: Context, name: string, snap: string | undefined, opts: { description?: string }): Promise<void> {
  checkVmName(name);
  const snapshot = validateNewName('snapshot', snap ?? defaultSnapshotName(new Date()));
  const existing = await readSnapshots(ctx, name);
  if (existing.some((s) => s.name === snapshot)) {
    throw new ConflictError(`VM ${JSON.stringify(name)} already has a snapshot ${JSON.stringify(snapshot)}; it was left unchanged`, `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'snapshot', 'delete', name, snapshot)}`);
  }
  await runVirsh(ctx.runner, domainCommands.snapshotCreate(ctx.uri, name, snapshot, opts.description), { kind: 'vm', name });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} created`, { name, snapshot });
}

export const snapshotColumns: Column<SnapshotRow>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'CREATED', value: (s) => s.createdAt },
  { header: 'STATE', value: (s) => s.state },
  { header: 'PARENT', value: (s) => s.parent },
  { header: 'CURRENT', value: (s) => s.current },
];

export async function runSnapshotList(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const rows = await readSnapshots(ctx, name);
  if (rows.length === 0 && !ctx.out.json) ctx.out.info(`VM ${name} has no snapshots`);
  ctx.out.list(snapshotColumns, rows);
}

function requireSnapshot(ctx: Context, verb: string, name: string, snap: string | undefined): string {
  if (snap === undefined || snap === '') {
    throw new UsageError(`vm snapshot ${verb} needs the snapshot's name`, `list them with: ${kvmctlCommand(ctx.uri, 'vm', 'snapshot', 'list', name)}`);
  }
  return snap;
}

export async function runSnapshotRevert(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'revert', name, snap);
  await runVirsh(ctx.runner, domainCommands.snapshotRevert(ctx.uri, name, snapshot), { kind: 'snapshot', name: snapshot });
  ctx.out.done(`vm ${name} reverted to snapshot ${snapshot}`, { name, snapshot });
}

export async function runSnapshotDelete(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'delete', name, snap);
  await runVirsh(ctx.runner, domainCommands.snapshotDelete(ctx.uri, name, snapshot), { kind: 'snapshot', name: snapshot });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} deleted`, { name, snapshot });
}
