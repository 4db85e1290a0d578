/** `vm`: assembles its verbs; each verb file declares its own flags. */
import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { autostartCommand } from './autostart.js';
import { vmCloneCommand } from './clone.js';
import { migrateCommand } from './migrate.js';
import { consoleCommand } from './console.js';
import { vmCreateCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { destroyCommand } from './destroy.js';
import { execCommand } from './exec.js';
import { infoCommand } from './info.js';
import { ipCommand } from './ip.js';
import { listCommand } from './list.js';
import { logCommand } from './log.js';
import { rebootCommand } from './reboot.js';
import { resumeCommand } from './resume.js';
import { setCommand } from './set.js';
import { snapshotCommand } from './snapshot/index.js';
import { sshCommand } from './ssh.js';
import { startCommand } from './start.js';
import { stopCommand } from './stop.js';
import { suspendCommand } from './suspend.js';
import { topCommand } from './top.js';
import { waitCommand } from './wait.js';
import { xmlCommand } from './xml.js';


export function vmCommand(app: App): Command {
  const vm = new Command('vm')
    .description('create, inspect and run virtual machines')
    .addHelpText(
      'after',
      examples(
        'kvmctl vm create web1 --image default/debian-12.qcow2,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
        'kvmctl vm list',
        'kvmctl vm ip web1',
        'kvmctl vm stop web1 --timeout 60 --force',
        'kvmctl vm delete web1 --remove-storage',
      ),
    );

  vm.addCommand(vmCreateCommand(app));

  for (const verb of [listCommand, infoCommand, xmlCommand, ipCommand, waitCommand]) vm.addCommand(verb(app));
  for (const verb of [startCommand, stopCommand, rebootCommand, suspendCommand, resumeCommand, destroyCommand, autostartCommand]) vm.addCommand(verb(app));
  for (const verb of [consoleCommand, logCommand, topCommand, sshCommand, execCommand, setCommand, snapshotCommand]) vm.addCommand(verb(app));

  vm.addCommand(vmCloneCommand(app));
  vm.addCommand(migrateCommand(app));
  vm.addCommand(deleteCommand(app));
  return vm;
}
