import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { QemuImg } from '../../../storage/qemu-img-client.js';
import { changeSnapshot } from './target.js';

export async function runVolumeSnapshotDelete(ctx: Context, volume: string, name: string): Promise<void> {
  const qemuImg = new QemuImg(ctx.runner);
  const snap = await changeSnapshot(ctx, volume, name, 'delete', (path, snap) => qemuImg.snapshotDelete(path, snap.name));
  ctx.out.done(`snapshot ${name} of ${volume} deleted`, { volume, name, id: snap.id, deleted: true });
}

export function volumeSnapshotDeleteCommand(app: App): Command {
  return new Command('delete')
    .description('delete a snapshot')
    .argument('<pool/name>', 'the volume')
    .argument('<snapshot>', 'snapshot name')
    .addHelpText('after', examples('kvmctl volume snapshot delete default/web1.qcow2 before-upgrade'))
    .action(app.action(async (ctx, ref: string, snap: string) => runVolumeSnapshotDelete(ctx, ref, snap)));
}
