import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import { forwardAddVerb } from './add.js';
import { forwardListVerb } from './list.js';
import { forwardDeleteVerb } from './delete.js';

export function forwardCommand(app: App): Command {
  const forward = new Command('forward')
    .description('port forwards from the host to VMs (DNAT, tagged kvmctl:fwd:PROTO-PORT)')
    .addHelpText('after', examples('kvmctl net forward add --port 2222 --to web1', 'kvmctl net forward list', 'kvmctl net forward delete 2222'));
  for (const verb of [forwardAddVerb, forwardListVerb, forwardDeleteVerb]) forward.addCommand(verb(app));
  return forward;
}
