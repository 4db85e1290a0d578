import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { volumeCloneCommand } from './clone.js';
import { volumeConvertCommand } from './convert.js';
import { volumeCreateCommand } from './create.js';
import { volumeDeleteCommand } from './delete.js';
import { volumeImportCommand } from './import.js';
import { volumeInfoCommand } from './info.js';
import { volumeListCommand } from './list.js';
import { volumeResizeCommand } from './resize.js';
import { volumeSnapshotCommand } from './snapshot/index.js';

export function volumeCommand(app: App): Command {
  return new Command('volume')
    .description('manage disk volumes (qcow2, raw, vmdk) in storage pools')
    .addHelpText(
      'after',
      examples('kvmctl volume list', 'kvmctl volume create web1.qcow2 --pool default --size 20G', 'kvmctl volume import debian-12.qcow2 --pool default') +
        '\nVolumes are named POOL/NAME. Nothing is ever overwritten: creating onto an existing\nvolume or file is exit 4; re-running a create that already succeeded is "unchanged".\n',
    )
    .addCommand(volumeListCommand(app))
    .addCommand(volumeInfoCommand(app))
    .addCommand(volumeCreateCommand(app))
    .addCommand(volumeImportCommand(app))
    .addCommand(volumeCloneCommand(app))
    .addCommand(volumeResizeCommand(app))
    .addCommand(volumeConvertCommand(app))
    .addCommand(volumeDeleteCommand(app))
    .addCommand(volumeSnapshotCommand(app));
}
