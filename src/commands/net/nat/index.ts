import { Command } from 'commander';
import { examples, type App } from '../../../app.js';

import { natEnableVerb } from './enable.js';
import { natDisableVerb } from './disable.js';
import { natCheckVerb } from './check.js';
import { natListVerb } from './list.js';

export function natCommand(app: App): Command {
  const nat = new Command('nat')
    .description('NAT for VMs on any bridge, as libvirt sets it up for virbr0: tagged iptables rules, ip_forward')
    .addHelpText('after', examples('kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24', 'kvmctl net nat list', 'kvmctl net nat check', 'kvmctl net nat disable --bridge br0'));
  for (const verb of [natEnableVerb, natDisableVerb, natCheckVerb, natListVerb]) nat.addCommand(verb(app));
  return nat;
}
