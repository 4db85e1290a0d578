import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { snapshotColumns, snapshotTarget } from './target.js';

export async function runVolumeSnapshotList(ctx: Context, volume: string): Promise<void> {
  const t = await snapshotTarget(ctx, volume, 'list');
  if (t.snapshots.length === 0 && !ctx.out.json) return ctx.out.info(`volume ${volume} has no snapshots`);
  ctx.out.list(snapshotColumns, t.snapshots);
}

export function volumeSnapshotListCommand(app: App): Command {
  return new Command('list')
    .description("list a volume's snapshots")
    .argument('<pool/name>', 'the volume')
    .addHelpText('after', examples('kvmctl volume snapshot list default/web1.qcow2'))
    .action(app.action(async (ctx, ref: string) => runVolumeSnapshotList(ctx, ref)));
}
