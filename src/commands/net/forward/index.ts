import { Command, Option } from 'commander';
import { examples, type App } from '../../../app.js';
import { runForwardAdd, type ForwardAddOptions } from './add.js';
import { runForwardDelete } from './delete.js';
import { runForwardList } from './list.js';

const proto = () => new Option('--proto <proto>', 'tcp or udp').choices(['tcp', 'udp']).default('tcp');

export function forwardCommand(app: App): Command {
  const forward = new Command('forward')
    .description('port forwards from the host to VMs (DNAT, tagged kvmctl:fwd:PROTO-PORT)')
    .addHelpText('after', examples('kvmctl net forward add --port 2222 --to web1', 'kvmctl net forward list', 'kvmctl net forward delete 2222'));
  forward.addCommand(
    new Command('add')
      .description('forward a host port (or range) to a VM or an address, for outside and locally generated traffic')
      .requiredOption('--port <port>', 'host port or range, e.g. 2222 or 8000-8010')
      .requiredOption('--to <target>', 'VM[:PORT] (port 22 by default; the VM\'s reserved address, else its lease) or IP:PORT')
      .addOption(proto())
      .option('--net <network>', 'the libvirt network to find the VM (or the address) in')
      .option('--capture-host-port', 'forward it even though a process of this host listens on the port (its connections then go to the target)')
      .addHelpText(
        'after',
        examples(
          'kvmctl net forward add --port 2222 --to web1',
          'kvmctl net forward add --port 8080 --to web1:80 --net default',
          'kvmctl net forward add --port 5353 --to 10.20.0.5:53 --proto udp',
          'kvmctl net forward add --port 8000-8010 --to 10.20.0.5',
        ) + '\nA range forwards to the same ports. Adding the same forward again changes nothing; a port already forwarded elsewhere is exit 4.\nA port (or a port in the range) on which a host process listens, outside 127.0.0.0/8, is refused (exit 5) unless --capture-host-port.\n',
      )
      .action(app.action(async (ctx, opts: ForwardAddOptions) => runForwardAdd(ctx, opts))),
  );
  forward.addCommand(
    new Command('list')
      .description("list kvmctl's port forwards with the VM and network behind each")
      .addHelpText('after', examples('kvmctl net forward list', 'kvmctl net forward list -o json'))
      .action(app.action(async (ctx) => runForwardList(ctx))),
  );
  forward.addCommand(
    new Command('delete')
      .description('remove a port forward (every rule tagged for it)')
      .argument('<port>', 'the host port or range it forwards')
      .addOption(proto())
      .addHelpText('after', examples('kvmctl net forward delete 2222', 'kvmctl net forward delete 5353 --proto udp'))
      .action(app.action(async (ctx, port: string, opts: { proto?: string }) => runForwardDelete(ctx, port, opts))),
  );
  return forward;
}
