/** `vm snapshot delete NAME SNAP`: the VM keeps its current state. */
import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { domainCommands } from '../../../libvirt/domain-commands.js';
import { runVirsh } from '../../../libvirt/virsh.js';
import { checkVmName } from '../domain-state.js';
import { requireSnapshot } from './snapshots.js';

export function snapshotDeleteCommand(app: App): Command {
  return new Command('delete')
    .description('delete a snapshot (the VM keeps its current state)')
    .argument('<name>', 'VM name')
    .argument('<snapshot>', 'snapshot name')
    .addHelpText('after', examples('kvmctl vm snapshot delete web1 before-upgrade'))
    .action(app.action(async (ctx, name: string, snap: string) => runSnapshotDelete(ctx, name, snap)));
}

export async function runSnapshotDelete(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'delete', name, snap);
  await runVirsh(ctx.runner, domainCommands.snapshotDelete(ctx.uri, name, snapshot), { kind: 'snapshot', name: snapshot });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} deleted`, { name, snapshot });
}
