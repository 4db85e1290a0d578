import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runHostReport } from './report.js';
import { runHostCheck } from './check.js';
import { runHostDoctor } from './doctor.js';
import { runHostAdd, type HostAddOptions } from './add.js';
import { runHostRemove } from './remove.js';
import { runHostList, type HostListOptions } from './list.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function hostCommand(app: App): Command {
  const host = new Command('host')
    .description("show the host's KVM, libvirt, capacity, bridge, NAT and network state")
    .addHelpText(
      'after',
      '\nFor another host (qemu+ssh/tcp/tls URI) every fact is that host\'s: the verdict from its libvirt, bridges and NAT\n' +
        'over the URI\'s ssh transport (otherwise shown as not available). Exit 5 when the daemon does not answer.\n' +
        examples('kvmctl host', 'kvmctl host -o json | jq .virtualization.kvmUsable', 'kvmctl -c qemu+ssh://root@kvm1/system host', 'kvmctl host check'),
    )
    .action(app.action(async (ctx) => runHostReport(ctx), { fanOut: true }));
  host.addCommand(
    new Command('check')
      .description('check the host for common problems; exit 0 without failures, 5 with any')
      .addHelpText('after', examples('kvmctl host check', 'kvmctl host check -o json'))
      .action(app.action(async (ctx) => runHostCheck(ctx), { fanOut: true })),
  );
  host.addCommand(
    new Command('doctor')
      .description('list operations that were killed midway (SIGKILL, power loss), what they left and how to remove it')
      .option('--clear', 'forget the listed operations (after removing what they left)')
      .addHelpText('after', examples('kvmctl host doctor', 'kvmctl host doctor --clear'))
      .action(app.action(async (ctx, opts: { clear?: boolean }) => runHostDoctor(ctx, opts))),
  );
  host.addCommand(
    new Command('add')
      .description('add a host to the inventory ($KVMCTL_HOSTS, else $XDG_CONFIG_HOME/kvmctl/hosts.yaml)')
      .argument('<name>', 'the name -H and --to will use')
      .requiredOption('--uri <uri>', 'its libvirt URI, e.g. qemu+ssh://root@kvm1/system')
      .option('--label <key=value>', 'a label (repeatable)', collect)
      .option('--migration-address <address>', 'the address other hosts send migration data to')
      .option('--group <group>', 'a group to put it in (repeatable)', collect)
      .addHelpText('after', examples('kvmctl host add kvm1 --uri qemu+ssh://root@kvm1/system --label rack=a1 --group web', 'kvmctl host add kvm2 --uri qemu+tcp://10.0.0.12/system --migration-address 10.0.0.12'))
      .action(app.action(async (ctx, name: string, opts: HostAddOptions) => runHostAdd(ctx, name, opts))),
  );
  host.addCommand(
    new Command('remove')
      .description('remove a host from the inventory and its groups (nothing on the host changes)')
      .argument('<name>', 'the host')
      .addHelpText('after', examples('kvmctl host remove kvm1'))
      .action(app.action(async (ctx, name: string) => runHostRemove(ctx, name))),
  );
  host.addCommand(
    new Command('list')
      .description('list the inventory: which hosts answer, their libvirt version, CPU use and free memory')
      .option('--no-probe', 'only the inventory, without asking the hosts')
      .addHelpText('after', examples('kvmctl host list', 'kvmctl host list -o json | jq \'.[] | select(.answers | not) | .name\'', 'KVMCTL_HOSTS=./lab-hosts.yaml kvmctl host list --no-probe'))
      .action(app.action(async (ctx, opts: HostListOptions) => runHostList(ctx, opts))),
  );
  return host;
}
