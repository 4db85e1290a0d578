import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runHostReport } from './report.js';
import { runHostCheck } from './check.js';

export function hostCommand(app: App): Command {
  const host = new Command('host')
    .description("show the host's KVM, libvirt, capacity, bridge, NAT and network state")
    .addHelpText('after', examples('kvmctl host', 'kvmctl host -o json | jq .virtualization.kvmUsable', 'kvmctl host check'))
    .action(app.action(async (ctx) => runHostReport(ctx)));
  host.addCommand(
    new Command('check')
      .description('check the host for common problems; exit 0 without failures, 5 with any')
      .addHelpText('after', examples('kvmctl host check', 'kvmctl host check -o json'))
      .action(app.action(async (ctx) => runHostCheck(ctx))),
  );
  return host;
}
