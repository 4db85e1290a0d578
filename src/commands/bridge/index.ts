import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runBridgeAttach, runBridgeDetach } from './attach.js';
import { runBridgeCreate, type BridgeCreateOptions } from './create.js';
import { runBridgeDelete } from './delete.js';
import { runBridgeList } from './list.js';

export function bridgeCommand(app: App): Command {
  const bridge = new Command('bridge')
    .description('manage host Linux bridges and their ports')
    .addHelpText(
      'after',
      examples('kvmctl bridge list', 'kvmctl bridge create br0 --address 10.20.0.1/24', 'kvmctl bridge attach br0 eth0 --move-address') +
        "\nBridge and interface names follow the kernel's rules: at most 15 bytes, no '/', ':' or white space.\n",
    );
  bridge.addCommand(
    new Command('list')
      .description('list bridges: state, MTU, STP, addresses, ports and the VMs attached (vnetN -> VM)')
      .addHelpText('after', examples('kvmctl bridge list', 'kvmctl bridge list -o json'))
      .action(app.action(async (ctx) => runBridgeList(ctx))),
  );
  bridge.addCommand(
    new Command('create')
      .description('create a bridge and bring it up')
      .argument('<name>', 'bridge name')
      .option('--stp', 'turn on the spanning tree protocol (for bridges with more than one uplink)')
      .option('--address <cidr>', 'give the bridge this address, e.g. 10.20.0.1/24')
      .addHelpText('after', examples('kvmctl bridge create br0', 'kvmctl bridge create br1 --stp --address 10.20.0.1/24'))
      .action(app.action(async (ctx, name: string, opts: BridgeCreateOptions) => runBridgeCreate(ctx, name, opts))),
  );
  bridge.addCommand(
    new Command('delete')
      .description('delete a bridge; refused while ports, VM interfaces or a libvirt network use it (unless --force), and always while a running VM is attached')
      .argument('<name>', 'bridge name')
      .option('--force', 'delete it although ports, stopped VMs or a libvirt network still use it')
      .addHelpText('after', examples('kvmctl bridge delete br0', 'kvmctl bridge delete br0 --force'))
      .action(app.action(async (ctx, name: string, opts: { force?: boolean }) => runBridgeDelete(ctx, name, opts))),
  );
  bridge.addCommand(
    new Command('attach')
      .description("enslave a NIC to the bridge; the NIC with the default route only with --move-address")
      .argument('<bridge>', 'bridge name')
      .argument('<iface>', 'the interface to attach')
      .option('--move-address', "move the NIC's addresses and routes (default route included) to the bridge; put back if any step fails")
      .addHelpText('after', examples('kvmctl bridge attach br0 eth1', 'kvmctl bridge attach br0 eth0 --move-address'))
      .action(app.action(async (ctx, name: string, iface: string, opts: { moveAddress?: boolean }) => runBridgeAttach(ctx, name, iface, opts))),
  );
  bridge.addCommand(
    new Command('detach')
      .description("release a NIC from the bridge; with --move-address what attach --move-address moved (else all of the bridge's addresses and routes) goes back to it")
      .argument('<bridge>', 'bridge name')
      .argument('<iface>', 'the interface to release')
      .option('--move-address', 'move the addresses and routes back to the NIC; put back on the bridge if any step fails')
      .addHelpText('after', examples('kvmctl bridge detach br0 eth1', 'kvmctl bridge detach br0 eth0 --move-address'))
      .action(app.action(async (ctx, name: string, iface: string, opts: { moveAddress?: boolean }) => runBridgeDetach(ctx, name, iface, opts))),
  );
  return bridge;
}
