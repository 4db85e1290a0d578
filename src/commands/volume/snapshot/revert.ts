import { snapshotJson } from '../../../storage/volume-json.js';
import type { Context } from '../../../context.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { changeSnapshot, volumeSnapshotVerb } from './target.js';

export async function runVolumeSnapshotRevert(ctx: Context, volume: string, name: string): Promise<void> {
  const qemuImg = new QemuImg(ctx.runner);
  const snap = await changeSnapshot(ctx, volume, name, 'revert', (path, snap) => qemuImg.snapshotApply(path, snap.id));
  ctx.out.done(`volume ${volume} reverted to snapshot ${name} (taken ${snap.date})`, { changed: true, ...snapshotJson(volume, snap) });
}

export const volumeSnapshotRevertCommand = volumeSnapshotVerb('revert', 'put the volume back to a snapshot (refused when overlays depend on it)', runVolumeSnapshotRevert, {
  examples: ['kvmctl volume snapshot revert default/web1.qcow2 before-upgrade'],
});
