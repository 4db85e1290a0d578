import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { natCommand } from './nat/index.js';
import { forwardCommand } from './forward/index.js';
import { netListVerb } from './list.js';
import { netInfoVerb } from './info.js';
import { netCreateVerb } from './create.js';
import { netStartVerb } from './start.js';
import { netStopVerb } from './stop.js';
import { netAutostartVerb } from './autostart.js';
import { netDeleteVerb } from './delete.js';
import { netLeasesVerb } from './leases.js';
import { netReserveVerb } from './reserve.js';
import { netUnreserveVerb } from './unreserve.js';

export function netCommand(app: App): Command {
  const net = new Command('net')
    .description('manage libvirt networks, DHCP, NAT and port forwards')
    .addHelpText('after', examples('kvmctl net list', 'kvmctl net create lab --mode nat --subnet 10.10.0.0/24', 'kvmctl net leases', 'kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24'));

  for (const verb of [netListVerb, netInfoVerb, netCreateVerb, netStartVerb, netStopVerb, netAutostartVerb, netDeleteVerb, netLeasesVerb, netReserveVerb, netUnreserveVerb, natCommand, forwardCommand]) net.addCommand(verb(app));
  return net;
}
