/** `vm snapshot list NAME`: name, time, state, parent, and which is current. */
import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { checkVmName } from '../domain-state.js';
import { readSnapshots, snapshotColumns } from './snapshots.js';

export function snapshotListCommand(app: App): Command {
  return new Command('list')
    .description("list a VM's snapshots")
    .argument('<name>', 'VM name')
    .addHelpText('after', examples('kvmctl vm snapshot list web1', 'kvmctl vm snapshot list web1 -o json'))
    .action(app.action(async (ctx, name: string) => runSnapshotList(ctx, name)));
}

export async function runSnapshotList(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const rows = await readSnapshots(ctx, name);
  if (rows.length === 0 && !ctx.out.json) ctx.out.info(`VM ${name} has no snapshots`);
  ctx.out.list(snapshotColumns, rows);
}
