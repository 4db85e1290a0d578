import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import { runBridgeAttach, runBridgeDetach, type MoveOptions } from './attach.js';
import { runBridgeConfirm, runRevertUnconfirmed } from './confirm.js';
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
      .argument('<name>', 'bridge name: letters, digits, - _ . (starting with a letter or digit; at most 15 characters)')
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
      .option('--confirm-timeout <seconds>', 'with --move-address: move everything back after this many seconds unless kvmctl bridge confirm keeps it')
      .addHelpText(
        'after',
        examples('kvmctl bridge attach br0 eth1', 'kvmctl bridge attach br0 eth0 --move-address', 'kvmctl bridge attach br0 eth0 --move-address --confirm-timeout 120') +
          "\nThe NIC with the default route, or the one carrying this ssh session (SSH_CONNECTION), is attached only with --move-address.\n" +
          'With --confirm-timeout a detached process (not tied to this terminal) reverts the move when the time is up; confirm from a new session.\n',
      )
      .action(app.action(async (ctx, name: string, iface: string, opts: MoveOptions) => runBridgeAttach(ctx, name, iface, opts))),
  );
  bridge.addCommand(
    new Command('detach')
      .description("release a NIC from the bridge; with --move-address what attach --move-address moved (else all of the bridge's addresses and routes) goes back to it")
      .argument('<bridge>', 'bridge name')
      .argument('<iface>', 'the interface to release')
      .option('--move-address', 'move the addresses and routes back to the NIC; put back on the bridge if any step fails')
      .option('--confirm-timeout <seconds>', 'with --move-address: move everything back onto the bridge after this many seconds unless kvmctl bridge confirm keeps it')
      .addHelpText(
        'after',
        examples('kvmctl bridge detach br0 eth1', 'kvmctl bridge detach br0 eth0 --move-address') +
          "\n--move-address moves back only what attach --move-address moved from that NIC; it is refused for another port.\n",
      )
      .action(app.action(async (ctx, name: string, iface: string, opts: MoveOptions) => runBridgeDetach(ctx, name, iface, opts))),
  );
  bridge.addCommand(
    new Command('confirm')
      .description('keep the address move of the open --confirm-timeout window (exit 6 if it was already reverted)')
      .addHelpText('after', examples('kvmctl bridge attach br0 eth0 --move-address --confirm-timeout 120', 'kvmctl bridge confirm'))
      .action(app.action(async (ctx) => runBridgeConfirm(ctx))),
  );
  // Run by the detached process a --confirm-timeout window starts; not for people.
  bridge.addCommand(
    new Command('revert-unconfirmed')
      .description('(internal) revert an unconfirmed --confirm-timeout window when it ends')
      .argument('<token>', 'the window it reverts')
      .action(
        app.action(async (ctx, token: string) =>
          runRevertUnconfirmed(ctx, token, async (w) =>
            w.change === 'attach' ? runBridgeDetach(ctx, w.bridge, w.iface, { moveAddress: true }) : runBridgeAttach(ctx, w.bridge, w.iface, { moveAddress: true }),
          ),
        ),
      ),
    { hidden: true },
  );
  return bridge;
}
