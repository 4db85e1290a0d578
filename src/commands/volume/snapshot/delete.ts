import type { Context } from '../../../context.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { names } from '../../../verb.js';
import { volumeVerb } from '../one-volume.js';
import { changeSnapshot } from './target.js';

export async function runVolumeSnapshotDelete(ctx: Context, volume: string, name: string): Promise<void> {
  const qemuImg = new QemuImg(ctx.runner);
  const snap = await changeSnapshot(ctx, volume, name, 'delete', (path, snap) => qemuImg.snapshotDelete(path, snap.name));
  ctx.out.done(`snapshot ${name} of ${volume} deleted`, { changed: true, volume, name, id: snap.id });
}

export const volumeSnapshotDeleteCommand = volumeVerb('delete', 'delete a snapshot', runVolumeSnapshotDelete, {
  args: [names('<snapshot...>', 'snapshot name(s) or ID(s), as volume snapshot list shows them', { kind: 'snapshot', serial: 'each delete is qemu-img rewriting the one image file; two at once would corrupt it' })],
  ifExists: { kind: 'snapshot', name: (_volume, snap) => snap, keys: (volume, snap) => ({ volume, name: snap }) },
  examples: ['kvmctl volume snapshot delete default/web1.qcow2 before-upgrade'],
});
