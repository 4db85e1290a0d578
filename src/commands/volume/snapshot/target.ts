/**
 * What every volume snapshot verb starts from: qcow2 internal snapshots are
 * made with qemu-img on the pool's files (libvirt has no call for them), so
 * only on this machine and only while no running VM has the volume open.
 */
import type { Context } from '../../../context.js';
import { NotFoundError, RefusedError } from '../../../errors.js';
import { isLocalUri, poolCalls, type VolumeRecord } from '../../../libvirt/storage.js';
import type { Column } from '../../../output/table.js';
import { formatBytes } from '../../../units/size.js';
import { dependentsOf, describeUsers, readStorage, refuseForeignBacking, refuseOutsidePool, requireVolume, usersOf } from '../../../storage/inventory.js';
import { realStorageFiles } from '../../../storage/local-files.js';
import type { ImageSnapshot } from '../../../storage/qemu-img.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { formatVolumeRef, parseVolumeRef, type VolumeRef } from '../../../storage/volume-ref.js';
import { arg, verbOn } from '../../../verb.js';
import { volumeRefArg } from '../one-volume.js';

/** A verb on one snapshot of a volume (`kvmctl volume snapshot VERB POOL/NAME SNAPSHOT`). */
export const volumeSnapshotVerb = verbOn([volumeRefArg, arg('<snapshot>', 'snapshot name')]);
import { kvmctlCommand } from '../../../exec/command.js';

export const snapshotColumns: Column<ImageSnapshot>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'ID', value: (s) => s.id },
  { header: 'DATE', value: (s) => s.date },
  { header: 'VM STATE', value: (s) => (s.vmStateBytes > 0 ? formatBytes(s.vmStateBytes) : 'none') },
];

export type Action = 'list' | 'create' | 'revert' | 'delete';

export interface Target {
  ref: VolumeRef;
  vol: VolumeRecord;
  snapshots: ImageSnapshot[];
}

export async function snapshotTarget(ctx: Context, volume: string, action: Action): Promise<Target> {
  const ref = parseVolumeRef(volume);
  if (!isLocalUri(ctx.uri)) {
    throw new RefusedError(
      `volume snapshots run qemu-img on the pool's files, and ${ctx.uri} is another host: this is a local-only feature`,
      'run kvmctl on that host, or snapshot the whole VM with kvmctl vm snapshot',
    );
  }
  const view = await readStorage(ctx);
  const vol = requireVolume(view, ref);
  await refuseOutsidePool(ctx, view.pools.find((p) => p.name === ref.pool)!, vol, realStorageFiles, action === 'list' ? 'read' : 'write');
  refuseForeignBacking(view, vol, action === 'list' ? 'read' : 'write');
  if (vol.format !== 'qcow2') {
    throw new RefusedError(`volume ${volume} is ${vol.format ?? 'of unknown format'}: internal snapshots need qcow2`, `convert it first: ${kvmctlCommand(ctx.uri, 'volume', 'convert', volume, '--to', 'qcow2')}`);
  }
  if (action !== 'list') {
    const running = usersOf(view, vol).filter((u) => u.active);
    if (running.length > 0) {
      throw new RefusedError(`volume ${volume} is in use by running VM(s) ${describeUsers(running)}; qemu-img must not change an image QEMU has open`, 'shut the VM down first, or use kvmctl vm snapshot');
    }
  }
  if (action === 'revert') {
    const overlays = dependentsOf(view, vol);
    if (overlays.length > 0) {
      throw new RefusedError(`volume ${volume} is the backing file of ${overlays.map((d) => `${d.pool}/${d.name}`).join(', ')}; reverting it would corrupt them`, 'delete those overlays first');
    }
  }
  const info = await new QemuImg(ctx.runner).info(vol.path, 'qcow2');
  return { ref, vol, snapshots: info?.snapshots ?? [] };
}

/** By name, else by the ID volume snapshot list shows (qemu-img's own). */
export function findSnapshot(uri: string, t: Target, name: string): ImageSnapshot {
  const byName = t.snapshots.filter((s) => s.name === name);
  const byId = t.snapshots.find((s) => s.id === name);
  // Found by its ID, it is still deleted by its name (qemu-img -d): that name must be its alone.
  const matches = byName.length > 0 || byId === undefined ? byName : t.snapshots.filter((s) => s.name === byId.name);
  const volume = formatVolumeRef(t.ref);
  if (matches.length === 0) {
    throw new NotFoundError(`snapshot ${JSON.stringify(name)} of volume ${volume} not found`, `list them with: ${kvmctlCommand(uri, 'volume', 'snapshot', 'list', volume)}`, { object: { kind: 'snapshot', name } });
  }
  if (matches.length > 1) {
    throw new RefusedError(`volume ${volume} has ${matches.length} snapshots named ${JSON.stringify(matches[0]!.name)} (ids ${matches.map((s) => s.id).join(', ')})`, 'remove the duplicates with qemu-img snapshot -d ID, then retry');
  }
  return matches[0]!;
}

export async function refreshPool(ctx: Context, pool: string): Promise<void> {
  // qemu-img changed the file's allocation behind libvirt's back.
  await ctx.virsh.run(poolCalls.refresh(pool));
}

/**
 * revert and delete: under the volume's lock, find the named snapshot, let
 * qemu-img change the file, then refresh the pool; returns the snapshot.
 */
export async function changeSnapshot(ctx: Context, volume: string, name: string, action: 'revert' | 'delete', change: (path: string, snap: ImageSnapshot) => Promise<void>): Promise<ImageSnapshot> {
  return ctx.withLock(`volume ${volume}`, async () => {
    const t = await snapshotTarget(ctx, volume, action);
    const snap = findSnapshot(ctx.uri, t, name);
    await change(t.vol.path, snap);
    await refreshPool(ctx, t.ref.pool);
    return snap;
  });
}
