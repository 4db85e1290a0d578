/**
 * `vm snapshot create NAME [SNAP] [--description TEXT]`: needs every writable
 * disk to be qcow2; libvirt says which is not.
 */
import type { Context } from '../../../context.js';
import { ConflictError } from '../../../errors.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { runPlan, type Plan } from '../../../exec/plan.js';
import { domainCalls } from '../../../libvirt/domain-commands.js';
import { NEW_NAME_HELP, validateNewName } from '../../../validate/names.js';
import { arg, value, type OptionsOf } from '../../../verb.js';
import { checkVmName } from '../domain-state.js';
import { readSnapshots, vmSnapshotsVerb } from './snapshots.js';

const options = { description: value('--description <text>', 'a note kept with it') };
export type SnapshotCreateOptions = OptionsOf<typeof options>;

/** One step: take the snapshot; undone (Ctrl-C right after it) by deleting it. */
export function snapshotPlan(name: string, snapshot: string, description?: string): Plan {
  return {
    label: `vm snapshot create ${name} ${snapshot}`,
    steps: [{ what: `snapshot ${snapshot} of VM ${name}`, do: { virsh: domainCalls.snapshotCreate(name, snapshot, description) }, undo: { virsh: domainCalls.snapshotDelete(name, snapshot) } }],
  };
}

/** snap-20261125-010203 (UTC): sortable, and unique unless two are taken within a second. */
export function defaultSnapshotName(now: Date): string {
  const iso = now.toISOString();
  return `snap-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export async function runSnapshotCreate(ctx: Context, name: string, snap: string | undefined, opts: SnapshotCreateOptions): Promise<void> {
  checkVmName(name);
  const snapshot = validateNewName('snapshot', snap ?? defaultSnapshotName(new Date()));
  const existing = await readSnapshots(ctx, name);
  if (existing.some((s) => s.name === snapshot)) {
    throw new ConflictError(`VM ${JSON.stringify(name)} already has a snapshot ${JSON.stringify(snapshot)}; it was left unchanged`, `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'snapshot', 'delete', name, snapshot)}`);
  }
  await runPlan(ctx, snapshotPlan(name, snapshot, opts.description));
  ctx.out.done(`vm ${name}: snapshot ${snapshot} created`, { changed: !ctx.dryRun, name, snapshot });
}

export const snapshotCreateCommand = vmSnapshotsVerb('create', 'take a snapshot (default name: snap-YYYYMMDD-HHMMSS)', runSnapshotCreate, {
  args: [arg('[snapshot]', `snapshot name: ${NEW_NAME_HELP}, not all digits`)],
  options,
  examples: ['kvmctl vm snapshot create web1', 'kvmctl vm snapshot create web1 before-upgrade --description "before apt upgrade"'],
});
