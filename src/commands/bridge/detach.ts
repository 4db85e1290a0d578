/**
 * bridge detach: release a NIC from its bridge. With --move-address what
 * attach --move-address moved from that NIC (else all of the bridge's
 * addresses and routes) goes back to it in the same transaction.
 */
import type { Context } from '../../context.js';
import { ConflictError, RefusedError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { configuredRoutes, defaultRouteDevices, findBridge, ipLinkSetMasterCommand, ipLinkSetNoMasterCommand, movableAddresses } from '../../net/ip.js';
import { movesByPort, movesRecord, recordedUplinks, sameAddress, sameRoute } from '../../net/bridge-moves.js';
import { checkNoOpenWindow, parseConfirmTimeout } from './confirm.js';
import { vmsByInterface } from './list.js';
import { carriesSession, findIface, movedOf, moveSteps, bridgeVerb, moveOptions, reportMove, validatePair, type MoveOptions } from './move-addresses.js';
import { runPlan, when } from '../../exec/plan.js';
import { arg } from '../../verb.js';

export async function runBridgeDetach(ctx: Context, bridge: string, iface: string, opts: MoveOptions): Promise<void> {
  validatePair(bridge, iface);
  const confirmSeconds = parseConfirmTimeout(opts.confirmTimeout, Boolean(opts.moveAddress));
  await ctx.withLock(`bridge ${bridge}`, async () => {
    const [links, routes, { owners }] = await Promise.all([ctx.ip.links(), ctx.ip.routes(), vmsByInterface(ctx)]);
    const br = findBridge(links, bridge, ctx.uri);
    const nic = findIface(links, iface);
    const move = Boolean(opts.moveAddress);
    const json = { bridge, iface, moveAddress: move };
    if (nic.master === undefined) return ctx.out.done(`${iface} is not attached to any bridge: unchanged`, { ...json, changed: false, moved: { addresses: [], routes: [] }, confirmBy: null });
    if (nic.master !== bridge) throw new ConflictError(`${iface} is a port of ${nic.master}, not of ${bridge}`, `${kvmctlCommand(ctx.uri, 'bridge', 'detach', nic.master, iface)}`);
    const vm = owners.get(iface);
    if (nic.kind === 'tun' || vm) {
      throw new RefusedError(`${iface} is the interface of ${vm ? `running VM ${vm}` : 'a running VM'}`, 'change the VM\'s interface instead (it would come back when the VM restarts)');
    }
    const record = await movesRecord(ctx.stateDir);
    const moves = movesByPort(await record.load());
    const recorded = moves[iface]?.bridge === bridge ? moves[iface] : undefined;
    const uplinks = recordedUplinks(moves, bridge, links);
    // With a record, the uplink is the port kvmctl moved the addresses from; another port can go freely.
    const isUplink = recorded !== undefined || uplinks.length === 0;
    const back = (port: string) => kvmctlCommand(ctx.uri, 'bridge', 'detach', bridge, port, '--move-address');
    if (!move && isUplink && defaultRouteDevices(routes).has(bridge)) {
      throw new RefusedError(
        `${bridge} carries the default route: releasing its uplink ${iface} cuts this host off the network`,
        `move the bridge's addresses and routes back to ${iface} in the same step: ${back(iface)}`,
      );
    }
    const session = move || !isUplink ? undefined : carriesSession(ctx, br);
    if (session !== undefined) {
      throw new RefusedError(
        `${bridge} carries this ssh session (SSH_CONNECTION's local address ${session}): releasing its uplink ${iface} cuts the session off`,
        `move the bridge's addresses and routes back to ${iface} in the same step: ${back(iface)}`,
      );
    }
    if (move && !recorded && uplinks.length > 0) {
      throw new RefusedError(
        `kvmctl moved ${bridge}'s addresses and routes from ${uplinks.join(', ')}, not from ${iface}: moving them to ${iface} would put them on the wrong NIC`,
        `release ${iface} alone with: ${kvmctlCommand(ctx.uri, 'bridge', 'detach', bridge, iface)}; move them back with: ${back(uplinks[0] as string)}`,
      );
    }
    if (move && !recorded) ctx.out.info(`no record of what kvmctl moved from ${iface} to ${bridge}: moving all of ${bridge}'s addresses and routes`);
    // What attach moved and is still there (an address or route removed since is not put back), else everything the bridge has.
    const present = configuredRoutes(routes, bridge);
    const addresses = recorded ? recorded.addresses.filter((a) => br.addresses.some((b) => sameAddress(a, b))) : movableAddresses(br);
    const moving = recorded ? recorded.routes.filter((r) => present.some((p) => sameRoute(p, r))) : present;
    if (confirmSeconds !== undefined && !ctx.dryRun) await checkNoOpenWindow(ctx);
    delete moves[iface];
    await runPlan(ctx, {
      label: `bridge detach ${bridge} ${iface}`,
      steps: [
        { what: `${iface} released from ${bridge}`, do: { command: ipLinkSetNoMasterCommand(iface) }, undo: { command: ipLinkSetMasterCommand(iface, bridge) } },
        ...(move ? moveSteps(ctx, bridge, iface, addresses, moving) : []),
        ...when(recorded !== undefined, { what: `kvmctl's record of the move (${record.location})`, do: record.saveAction(moves) }),
      ],
    });
    const moved = move ? movedOf(addresses, moving) : { addresses: [], routes: [] };
    await reportMove(ctx, 'detach', json, moved, { seconds: confirmSeconds, broughtUp: false });
  });
}

export const bridgeDetachVerb = bridgeVerb('detach', "release a NIC from the bridge; with --move-address what attach --move-address moved (else all of the bridge's addresses and routes) goes back to it", runBridgeDetach, {
  args: [arg('<iface>', 'the interface to release')],
  options: moveOptions(
    'move the addresses and routes back to the NIC; put back on the bridge if any step fails',
    'with --move-address: move everything back onto the bridge after this many seconds unless kvmctl bridge confirm keeps it',
  ),
  examples: ['kvmctl bridge detach br0 eth1', 'kvmctl bridge detach br0 eth0 --move-address'],
  notes: '\n--move-address moves back only what attach --move-address moved from that NIC; it is refused for another port.\n',
});
