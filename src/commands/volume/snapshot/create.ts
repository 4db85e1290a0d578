import { snapshotJson } from '../../../storage/volume-json.js';
import { NEW_NAME_HELP } from '../../../validate/names.js';
import { arg } from '../../../verb.js';
import { volumeVerb } from '../one-volume.js';
import type { Context } from '../../../context.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { formatVolumeRef, parseVolumeRef, validateNewName } from '../../../storage/volume-ref.js';
import { refreshPool, snapshotTarget } from './target.js';

/** snap-20250101T120000Z */
export function defaultSnapshotName(now: Date): string {
  return `snap-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export async function runVolumeSnapshotCreate(ctx: Context, volume: string, name: string | undefined): Promise<void> {
  const snap = validateNewName('snapshot', name ?? defaultSnapshotName(new Date()));
  const ref = parseVolumeRef(volume);
  await ctx.withLock(`volume ${formatVolumeRef(ref)}`, async () => {
    const t = await snapshotTarget(ctx, volume, 'create');
    const existing = t.snapshots.find((s) => s.name === snap);
    if (existing) return ctx.out.done(`snapshot ${snap} of ${volume} already exists (taken ${existing.date}): unchanged`, { changed: false, ...snapshotJson(volume, existing) });
    await new QemuImg(ctx.runner).snapshotCreate(t.vol.path, snap);
    await refreshPool(ctx, t.ref.pool);
    // qemu-img numbers and dates the snapshot: read it back to report it as `volume snapshot list` does.
    const taken = ctx.dryRun ? undefined : (await new QemuImg(ctx.runner).info(t.vol.path, 'qcow2')).snapshots?.find((s) => s.name === snap);
    ctx.out.done(`snapshot ${snap} of ${volume} created`, { changed: true, ...snapshotJson(volume, taken ?? { name: snap }) });
  });
}

export const volumeSnapshotCreateCommand = volumeVerb('create', 'take a snapshot (default name: snap-DATE)', runVolumeSnapshotCreate, {
  args: [arg('[snapshot]', `snapshot name: ${NEW_NAME_HELP}, not all digits`)],
  examples: ['kvmctl volume snapshot create default/web1.qcow2 before-upgrade'],
});
