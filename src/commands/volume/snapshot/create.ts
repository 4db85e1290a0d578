import { NEW_NAME_HELP } from '../../../validate/names.js';
import { arg, verb } from '../../../verb.js';
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
    if (existing) return ctx.out.done(`snapshot ${snap} of ${volume} already exists (taken ${existing.date}): unchanged`, { ...existing, volume, unchanged: true });
    await new QemuImg(ctx.runner).snapshotCreate(t.vol.path, snap);
    await refreshPool(ctx, t.ref.pool);
    ctx.out.done(`snapshot ${snap} of ${volume} created`, { volume, name: snap });
  });
}

export const volumeSnapshotCreateCommand = verb({
  name: 'create',
  description: 'take a snapshot (default name: snap-DATE)',
  args: [arg('<pool/name>', 'the volume'), arg('[snapshot]', `snapshot name: ${NEW_NAME_HELP}, not all digits`)],
  examples: ['kvmctl volume snapshot create default/web1.qcow2 before-upgrade'],
  run: (ctx, ref, snap) => runVolumeSnapshotCreate(ctx, ref, snap),
});
