import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { imageCatalogCommand } from './catalog.js';
import { imageInfoCommand } from './info.js';
import { imageListCommand } from './list.js';
import { imagePullCommand } from './pull.js';
import { imageRemoveCommand } from './remove.js';

export function imageCommand(app: App): Command {
  return new Command('image')
    .description('cloud images: pull by catalog name or URL, verified and published read-only into a pool')
    .addHelpText(
      'after',
      examples('kvmctl image catalog', 'kvmctl image pull debian-12', 'kvmctl image list', 'kvmctl vm create web1 --image debian-12 --wait ip') +
        '\nThe catalog is built in, and extended or overridden by images.json in the config\ndirectory ($KVMCTL_CONFIG_DIR, else /etc/kvmctl for root, else ~/.config/kvmctl).\n',
    )
    .addCommand(imagePullCommand(app))
    .addCommand(imageCatalogCommand(app))
    .addCommand(imageListCommand(app))
    .addCommand(imageInfoCommand(app))
    .addCommand(imageRemoveCommand(app));
}
