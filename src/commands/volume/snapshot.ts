/**
 * volume snapshot create | list | revert | delete: qcow2 internal snapshots,
 * made with qemu-img on the pool's files (libvirt has no call for them), so
 * only on this machine and only while no running VM has the volume open.
 */
import type { Context } from '../../context.js';
import { NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { isLocalUri, poolCommands, type VolumeRecord } from '../../libvirt/storage.js';
import { runVirsh } from '../../libvirt/virsh.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { dependentsOf, describeUsers, readStorage, refuseForeignBacking, refuseOutsidePool, requireVolume, usersOf } from '../../storage/inventory.js';
import { realStorageFiles } from '../../storage/local-files.js';
import type { ImageSnapshot } from '../../storage/qemu-img.js';
import { QemuImg } from '../../storage/qemu-img-client.js';
import { formatVolumeRef, parseVolumeRef, validateNewName, type VolumeRef } from '../../storage/volume-ref.js';
import { kvmctlCommand } from '../../exec/command.js';

export const snapshotColumns: Column<ImageSnapshot>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'ID', value: (s) => s.id },
  { header: 'DATE', value: (s) => s.date },
  { header: 'VM STATE', value: (s) => (s.vmStateBytes > 0 ? formatBytes(s.vmStateBytes) : 'none') },
];

type Action = 'list' | 'create' | 'revert' | 'delete';

interface Target {
  ref: VolumeRef;
  vol: VolumeRecord;
  snapshots: ImageSnapshot[];
}

async function snapshotTarget(ctx: Context, volume: string, action: Action): Promise<Target> {
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

function findSnapshot(uri: string, t: Target, name: string): ImageSnapshot {
  const matches = t.snapshots.filter((s) => s.name === name);
  const volume = formatVolumeRef(t.ref);
  if (matches.length === 0) throw new NotFoundError(`snapshot ${JSON.stringify(name)} of volume ${volume} not found`, `list them with: ${kvmctlCommand(uri, 'volume', 'snapshot', 'list', volume)}`);
  if (matches.length > 1) {
    throw new RefusedError(`volume ${volume} has ${matches.length} snapshots named ${JSON.stringify(name)} (ids ${matches.map((s) => s.id).join(', ')})`, 'remove the duplicates with qemu-img snapshot -d ID, then retry');
  }
  return matches[0]!;
}

async function refreshPool(ctx: Context, pool: string): Promise<void> {
  // qemu-img changed the file's allocation behind libvirt's back.
  await runVirsh(ctx.runner, poolCommands.refresh(ctx.uri, pool), { kind: 'pool', name: pool });
}

export async function runSnapshotList(ctx: Context, volume: string): Promise<void> {
  const t = await snapshotTarget(ctx, volume, 'list');
  if (t.snapshots.length === 0 && !ctx.out.json) return ctx.out.info(`volume ${volume} has no snapshots`);
  ctx.out.list(snapshotColumns, t.snapshots);
}

/** snap-20250101T120000Z */
export function defaultSnapshotName(now: Date): string {
  return `snap-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export async function runSnapshotCreate(ctx: Context, volume: string, name: string | undefined): Promise<void> {
  const snap = validateNewName('snapshot', name ?? defaultSnapshotName(new Date()));
  const ref = parseVolumeRef(volume);
  await ctx.withLock(`volume ${formatVolumeRef(ref)}`, async () => {
    const t = await snapshotTarget(ctx, volume, 'create');
    const existing = t.snapshots.find((s) => s.name === snap);
    if (existing) return ctx.out.done(`snapshot ${snap} of ${volume} already exists (taken ${existing.date}): unchanged`, { ...existing, volume, unchanged: true });
    await new QemuImg(ctx.runner).snapshotCreate(t.vol.path, snap);
    await refreshPool(ctx, t.ref.pool);
    ctx.out.done(`snapshot ${snap} of ${volume} created`, { volume, name: snap });
  });
}

export async function runSnapshotRevert(ctx: Context, volume: string, name: string | undefined): Promise<void> {
  if (name === undefined) throw new UsageError('name the snapshot to revert to', `list them with: ${kvmctlCommand(ctx.uri, 'volume', 'snapshot', 'list', volume)}`);
  await ctx.withLock(`volume ${volume}`, async () => {
    const t = await snapshotTarget(ctx, volume, 'revert');
    const snap = findSnapshot(ctx.uri, t, name);
    await new QemuImg(ctx.runner).snapshotApply(t.vol.path, snap.id);
    await refreshPool(ctx, t.ref.pool);
    ctx.out.done(`volume ${volume} reverted to snapshot ${name} (taken ${snap.date})`, { volume, name, id: snap.id, date: snap.date });
  });
}

export async function runSnapshotDelete(ctx: Context, volume: string, name: string | undefined): Promise<void> {
  if (name === undefined) throw new UsageError('name the snapshot to delete', `list them with: ${kvmctlCommand(ctx.uri, 'volume', 'snapshot', 'list', volume)}`);
  await ctx.withLock(`volume ${volume}`, async () => {
    const t = await snapshotTarget(ctx, volume, 'delete');
    const snap = findSnapshot(ctx.uri, t, name);
    await new QemuImg(ctx.runner).snapshotDelete(t.vol.path, snap.name);
    await refreshPool(ctx, t.ref.pool);
    ctx.out.done(`snapshot ${name} of ${volume} deleted`, { volume, name, id: snap.id, deleted: true });
  });
}
