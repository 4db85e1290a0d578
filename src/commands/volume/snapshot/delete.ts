import type { Context } from '../../../context.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { changeSnapshot, volumeSnapshotVerb } from './target.js';

export async function runVolumeSnapshotDelete(ctx: Context, volume: string, name: string): Promise<void> {
  const qemuImg = new QemuImg(ctx.runner);
  const snap = await changeSnapshot(ctx, volume, name, 'delete', (path, snap) => qemuImg.snapshotDelete(path, snap.name));
  ctx.out.done(`snapshot ${name} of ${volume} deleted`, { changed: true, volume, name, id: snap.id });
}

export const volumeSnapshotDeleteCommand = volumeSnapshotVerb({
  name: 'delete',
  description: 'delete a snapshot',
  examples: ['kvmctl volume snapshot delete default/web1.qcow2 before-upgrade'],
  run: (ctx, ref, snap) => runVolumeSnapshotDelete(ctx, ref, snap),
});
