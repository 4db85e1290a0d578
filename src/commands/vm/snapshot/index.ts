/** `vm snapshot`: assembles its verbs. */
import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import { snapshotCreateCommand } from './create.js';
import { snapshotDeleteCommand } from './delete.js';
import { snapshotListCommand } from './list.js';
import { snapshotRevertCommand } from './revert.js';

export function snapshotCommand(app: App): Command {
  return new Command('snapshot')
    .description("snapshots of a VM's disks (and memory, when running), kept inside its qcow2 disks")
    .addHelpText('after', examples('kvmctl vm snapshot create web1 before-upgrade', 'kvmctl vm snapshot list web1', 'kvmctl vm snapshot revert web1 before-upgrade', 'kvmctl vm snapshot delete web1 before-upgrade'))
    .addCommand(snapshotCreateCommand(app))
    .addCommand(snapshotListCommand(app))
    .addCommand(snapshotRevertCommand(app))
    .addCommand(snapshotDeleteCommand(app));
}
