import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runHostReport } from './report.js';
import { runHostCheck } from './check.js';
import { runHostDoctor } from './doctor.js';

export function hostCommand(app: App): Command {
  const host = new Command('host')
    .description("show the host's KVM, libvirt, capacity, bridge, NAT and network state")
    .addHelpText(
      'after',
      '\nFor another host (qemu+ssh/tcp/tls URI) every fact is that host\'s: the verdict from its libvirt, bridges and NAT\n' +
        'over the URI\'s ssh transport (otherwise shown as not available). Exit 5 when the daemon does not answer.\n' +
        examples('kvmctl host', 'kvmctl host -o json | jq .virtualization.kvmUsable', 'kvmctl -c qemu+ssh://root@kvm1/system host', 'kvmctl host check'),
    )
    .action(app.action(async (ctx) => runHostReport(ctx)));
  host.addCommand(
    new Command('check')
      .description('check the host for common problems; exit 0 without failures, 5 with any')
      .addHelpText('after', examples('kvmctl host check', 'kvmctl host check -o json'))
      .action(app.action(async (ctx) => runHostCheck(ctx))),
  );
  host.addCommand(
    new Command('doctor')
      .description('list operations that were killed midway (SIGKILL, power loss), what they left and how to remove it')
      .option('--clear', 'forget the listed operations (after removing what they left)')
      .addHelpText('after', examples('kvmctl host doctor', 'kvmctl host doctor --clear'))
      .action(app.action(async (ctx, opts: { clear?: boolean }) => runHostDoctor(ctx, opts))),
  );
  return host;
}
