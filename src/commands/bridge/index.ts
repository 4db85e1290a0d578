import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { bridgeListVerb } from './list.js';
import { bridgeCreateVerb } from './create.js';
import { bridgeDeleteVerb } from './delete.js';
import { bridgeAttachVerb } from './attach.js';
import { bridgeDetachVerb } from './detach.js';
import { bridgeConfirmVerb } from './confirm.js';
import { bridgeRevertUnconfirmedVerb } from './revert-unconfirmed.js';

export function bridgeCommand(app: App): Command {
  const bridge = new Command('bridge')
    .description('manage host Linux bridges and their ports')
    .addHelpText(
      'after',
      examples('kvmctl bridge list', 'kvmctl bridge create br0 --address 10.20.0.1/24', 'kvmctl bridge attach br0 eth0 --move-address') +
        "\nBridge and interface names follow the kernel's rules: at most 15 bytes, no '/', ':' or white space.\n",
    );
  for (const verb of [bridgeListVerb, bridgeCreateVerb, bridgeDeleteVerb, bridgeAttachVerb, bridgeDetachVerb, bridgeConfirmVerb]) bridge.addCommand(verb(app));
  bridge.addCommand(bridgeRevertUnconfirmedVerb(app), { hidden: true });
  return bridge;
}
