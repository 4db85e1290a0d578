import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import { volumeSnapshotCreateCommand } from './create.js';
import { volumeSnapshotDeleteCommand } from './delete.js';
import { volumeSnapshotListCommand } from './list.js';
import { volumeSnapshotRevertCommand } from './revert.js';

export function volumeSnapshotCommand(app: App): Command {
  return new Command('snapshot')
    .description('qcow2 internal snapshots of a volume no running VM uses (on this machine only)')
    .addHelpText(
      'after',
      examples(
        'kvmctl volume snapshot create default/web1.qcow2 before-upgrade',
        'kvmctl volume snapshot list default/web1.qcow2',
        'kvmctl volume snapshot revert default/web1.qcow2 before-upgrade',
        'kvmctl volume snapshot delete default/web1.qcow2 before-upgrade',
      ),
    )
    .addCommand(volumeSnapshotCreateCommand(app))
    .addCommand(volumeSnapshotRevertCommand(app))
    .addCommand(volumeSnapshotDeleteCommand(app))
    .addCommand(volumeSnapshotListCommand(app));
}
