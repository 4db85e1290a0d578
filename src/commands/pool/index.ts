/** `kvmctl pool`: assembles the verbs; each verb file declares its own flags and run function. */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { poolAutostartCommand } from './autostart.js';
import { poolCreateCommand } from './create.js';
import { poolDeleteCommand } from './delete.js';
import { poolInfoCommand } from './info.js';
import { poolListCommand } from './list.js';
import { poolRefreshCommand } from './refresh.js';
import { poolStartCommand } from './start.js';
import { poolStopCommand } from './stop.js';

const VERBS = [poolListCommand, poolInfoCommand, poolCreateCommand, poolStartCommand, poolStopCommand, poolRefreshCommand, poolAutostartCommand, poolDeleteCommand];

export function poolCommand(app: App): Command {
  const pool = new Command('pool')
    .description('manage storage pools (dir, fs, netfs/NFS, logical)')
    .addHelpText('after', examples('kvmctl pool list', 'kvmctl pool create images --type dir --path /srv/images', 'kvmctl pool info default -o json'));
  for (const declare of VERBS) pool.addCommand(declare(app));
  return pool;
}
