/** `vm snapshot revert NAME SNAP`: the VM's state becomes the snapshot's (running or shut off). */
import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { domainCommands } from '../../../libvirt/domain-commands.js';
import { runVirsh } from '../../../libvirt/virsh.js';
import { checkVmName } from '../domain-state.js';
import { requireSnapshot } from './snapshots.js';

export function snapshotRevertCommand(app: App): Command {
  return new Command('revert')
    .description('put the VM back to a snapshot (its state then is the snapshot\'s: running or shut off)')
    .argument('<name>', 'VM name')
    .argument('<snapshot>', 'snapshot name')
    .addHelpText('after', examples('kvmctl vm snapshot revert web1 before-upgrade'))
    .action(app.action(async (ctx, name: string, snap: string) => runSnapshotRevert(ctx, name, snap)));
}

export async function runSnapshotRevert(ctx: Context, name: string, snap: string | undefined): Promise<void> {
  checkVmName(name);
  const snapshot = requireSnapshot(ctx, 'revert', name, snap);
  await runVirsh(ctx.runner, domainCommands.snapshotRevert(ctx.uri, name, snapshot), { kind: 'snapshot', name: snapshot });
  ctx.out.done(`vm ${name} reverted to snapshot ${snapshot}`, { name, snapshot });
}
