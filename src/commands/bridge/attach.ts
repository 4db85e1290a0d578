/**
 * bridge attach: enslave a NIC to a bridge. With --move-address the NIC's
 * addresses and routes (the default route included) move to the bridge in the
 * same transaction.
 */
import type { Context } from '../../context.js';
import { ConflictError, RefusedError, UsageError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { configuredRoutes, defaultRouteDevices, findBridge, ipLinkSetMasterCommand, ipLinkSetNoMasterCommand, ipLinkSetStateCommand, movableAddresses } from '../../net/ip.js';
import { movesByPort, movesRecord } from '../../net/bridge-moves.js';
import { checkNoOpenWindow, parseConfirmTimeout } from './confirm.js';
import { carriesSession, findIface, movedOf, moveSteps, bridgeVerb, moveOptions, reportMove, validatePair, type MoveOptions } from './move-addresses.js';
import { runPlan, when } from '../../exec/plan.js';
import { arg } from '../../verb.js';

export async function runBridgeAttach(ctx: Context, bridge: string, iface: string, opts: MoveOptions): Promise<void> {
  validatePair(bridge, iface);
  const confirmSeconds = parseConfirmTimeout(opts.confirmTimeout, Boolean(opts.moveAddress));
  await ctx.withLock(`bridge ${bridge}`, async () => {
    const [links, routes] = await Promise.all([ctx.ip.links(), ctx.ip.routes()]);
    const br = findBridge(links, bridge, ctx.uri);
    const nic = findIface(links, iface);
    if (nic.kind === 'bridge') throw new UsageError(`${iface} is a bridge itself: bridges cannot be nested`, 'attach the bridge\'s uplink NIC instead');
    if (nic.flags.includes('LOOPBACK')) throw new UsageError(`${iface} is the loopback interface`, 'attach a NIC or veth');
    const movable = movableAddresses(nic);
    const move = Boolean(opts.moveAddress);
    const json = { bridge, iface, moveAddress: move };
    if (nic.master === bridge && (!move || movable.length === 0)) {
      return ctx.out.done(`${iface} is already attached to ${bridge}: unchanged`, { ...json, changed: false, moved: { addresses: [], routes: [] }, confirmBy: null });
    }
    if (nic.master !== undefined && nic.master !== bridge) {
      throw new ConflictError(`${iface} is already a port of ${nic.master}`, `detach it first: ${kvmctlCommand(ctx.uri, 'bridge', 'detach', nic.master, iface)}`);
    }
    if (!move && defaultRouteDevices(routes).has(iface)) {
      throw new RefusedError(
        `${iface} carries the default route: enslaving it to ${bridge} without its addresses cuts this host off the network`,
        `move its addresses and routes to the bridge in the same step: ${kvmctlCommand(ctx.uri, 'bridge', 'attach', bridge, iface, '--move-address')}`,
      );
    }
    const session = move ? undefined : carriesSession(ctx, nic);
    if (session !== undefined) {
      throw new RefusedError(
        `${iface} carries this ssh session (SSH_CONNECTION's local address ${session}): enslaving it to ${bridge} without its addresses cuts the session off`,
        `move its addresses and routes to the bridge in the same step: ${kvmctlCommand(ctx.uri, 'bridge', 'attach', bridge, iface, '--move-address')}`,
      );
    }
    if (confirmSeconds !== undefined && !ctx.dryRun) await checkNoOpenWindow(ctx);
    const record = await movesRecord(ctx.stateDir);
    const moving = move ? configuredRoutes(routes, iface) : [];
    const moves = movesByPort(await record.load());
    const before = moves[iface]?.bridge === bridge ? moves[iface] : undefined;
    moves[iface] = { bridge, iface, addresses: [...(before?.addresses ?? []), ...movable], routes: [...(before?.routes ?? []), ...moving] };
    await runPlan(ctx, {
      label: `bridge attach ${bridge} ${iface}`,
      steps: [
        ...when(!br.flags.includes('UP'), { what: `${bridge} up`, do: { command: ipLinkSetStateCommand(bridge, 'up') }, undo: { command: ipLinkSetStateCommand(bridge, 'down') } }),
        ...when(nic.master !== bridge, { what: `${iface} in ${bridge}`, do: { command: ipLinkSetMasterCommand(iface, bridge) }, undo: { command: ipLinkSetNoMasterCommand(iface) } }),
        ...(move ? [...moveSteps(ctx, iface, bridge, movable, moving), { what: `kvmctl's record of the move (${record.location})`, do: record.saveAction(moves) }] : []),
      ],
    });
    const moved = move ? movedOf(movable, moving) : { addresses: [], routes: [] };
    await reportMove(ctx, 'attach', json, moved, { seconds: confirmSeconds, broughtUp: !br.flags.includes('UP') });
  });
}

export const bridgeAttachVerb = bridgeVerb('attach', 'enslave a NIC to the bridge; the NIC with the default route only with --move-address', runBridgeAttach, {
  args: [arg('<iface>', 'the interface to attach')],
  options: moveOptions(
    "move the NIC's addresses and routes (default route included) to the bridge; put back if any step fails",
    'with --move-address: move everything back after this many seconds unless kvmctl bridge confirm keeps it',
  ),
  examples: ['kvmctl bridge attach br0 eth1', 'kvmctl bridge attach br0 eth0 --move-address', 'kvmctl bridge attach br0 eth0 --move-address --confirm-timeout 120'],
  notes:
    '\nThe NIC with the default route, or the one carrying this ssh session (SSH_CONNECTION), is attached only with --move-address.\n' +
    'With --confirm-timeout a detached process (not tied to this terminal) reverts the move when the time is up; confirm from a new session.\n',
});
