import { snapshotJson } from '../../../storage/volume-json.js';
import { arg, verb } from '../../../verb.js';
import type { Context } from '../../../context.js';
import { snapshotColumns, snapshotTarget } from './target.js';

export async function runVolumeSnapshotList(ctx: Context, volume: string): Promise<void> {
  const t = await snapshotTarget(ctx, volume, 'list');
  if (t.snapshots.length === 0 && !ctx.out.json) return ctx.out.info(`volume ${volume} has no snapshots`);
  ctx.out.list(snapshotColumns, t.snapshots, t.snapshots.map((s) => snapshotJson(volume, s)));
}

export const volumeSnapshotListCommand = verb({
  name: 'list',
  description: "list a volume's snapshots",
  args: [arg('<pool/name>', 'the volume')],
  examples: ['kvmctl volume snapshot list default/web1.qcow2'],
  run: (ctx, ref) => runVolumeSnapshotList(ctx, ref),
});
