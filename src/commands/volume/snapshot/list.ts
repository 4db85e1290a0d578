import { snapshotJson } from '../../../storage/volume-json.js';
import type { Context } from '../../../context.js';
import { snapshotColumns, snapshotTarget } from './target.js';
import { volumeVerb } from '../one-volume.js';

export async function runVolumeSnapshotList(ctx: Context, volume: string): Promise<void> {
  const t = await snapshotTarget(ctx, volume, 'list');
  if (t.snapshots.length === 0 && !ctx.out.json) return ctx.out.info(`volume ${volume} has no snapshots`);
  ctx.out.list(snapshotColumns, t.snapshots, t.snapshots.map((s) => snapshotJson(volume, s)));
}

export const volumeSnapshotListCommand = volumeVerb('list', "list a volume's snapshots", runVolumeSnapshotList, {
  examples: ['kvmctl volume snapshot list default/web1.qcow2'],
});
