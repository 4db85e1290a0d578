/**
 * bridge attach | detach: enslave a NIC to a bridge, or release it. With
 * --move-address the NIC's addresses and routes (the default route included)
 * move to the bridge (back to the NIC on detach) in the same transaction, so a
 * failing step puts everything back where it was.
 */
import type { Context } from '../../context.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { formatCommand, kvmctlCommand, type Command } from '../../exec/command.js';
import type { Transaction } from '../../exec/transaction.js';
import { addressCidr, configuredRoutes, defaultRouteDevices, findBridge, ipAddrAddCommand, ipAddrDelCommand, ipLinkSetMasterCommand, ipLinkSetNoMasterCommand, ipLinkSetStateCommand, ipRouteDelCommand, ipRouteReplaceCommand, movableAddresses, type IpAddress, type Link, type Route } from '../../net/ip.js';
import { currentNetnsRecord } from '../../net/netns-record.js';
import { validateLinkName } from '../../net/link-name.js';
import { vmsByInterface } from './list.js';
import { checkNoOpenWindow, openConfirmWindow, parseConfirmTimeout } from './confirm.js';

export interface MoveOptions {
  moveAddress?: boolean;
  /** Seconds after which the move is reverted unless `kvmctl bridge confirm` keeps it. */
  confirmTimeout?: string;
}

export interface Moved {
  addresses: string[];
  routes: string[];
}

/**
 * What `attach --move-address` moved from one port to its bridge, so that
 * `detach --move-address` of that port moves back exactly that. Records are
 * keyed by the port: two uplinks of one bridge each keep their own.
 */
export interface MoveRecord {
  bridge: string;
  iface: string;
  addresses: IpAddress[];
  routes: Route[];
}
type BridgeMoves = Record<string, MoveRecord>;

export function movesRecord(ctx: Context) {
  return currentNetnsRecord<BridgeMoves>(ctx.stateDir, 'bridge-moves', () => ({}), (v) => Object.keys(v).length === 0);
}

/** The records by port; an older file kept one record per bridge, keyed by the bridge's name. */
export function movesByPort(raw: Record<string, Partial<MoveRecord>>): BridgeMoves {
  const out: BridgeMoves = {};
  for (const [key, v] of Object.entries(raw)) {
    if (typeof v?.iface !== 'string') continue;
    out[v.iface] = { bridge: v.bridge ?? key, iface: v.iface, addresses: v.addresses ?? [], routes: v.routes ?? [] };
  }
  return out;
}

/** The ports whose addresses kvmctl moved to this bridge, by records that still match the host. */
export function recordedUplinks(moves: BridgeMoves, bridge: string, links: Link[]): string[] {
  return Object.values(moves)
    .filter((m) => m.bridge === bridge && staleReason(m, links) === undefined)
    .map((m) => m.iface);
}

const sameAddress = (a: IpAddress, b: IpAddress) => a.local === b.local && a.prefixlen === b.prefixlen;
const sameRoute = (a: Route, b: Route) => a.dst === b.dst && a.gateway === b.gateway && a.family === b.family;

/**
 * Why a record no longer matches the host (its port left the bridge, or the
 * bridge holds none of what was moved), or undefined while it does.
 */
export function staleReason(m: MoveRecord, links: Link[]): string | undefined {
  const port = links.find((l) => l.ifname === m.iface);
  const br = links.find((l) => l.ifname === m.bridge);
  if (!br) return `bridge ${m.bridge} no longer exists`;
  if (!port) return `${m.iface} no longer exists`;
  if (port.master !== m.bridge) return `${m.iface} is no longer a port of ${m.bridge}`;
  if (m.addresses.length > 0 && !m.addresses.some((a) => br.addresses.some((b) => sameAddress(a, b)))) return `${m.bridge} holds none of the moved addresses`;
  return undefined;
}

function describeRoute(r: Route): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`;
}

/**
 * Moves addresses and configured routes from one device to another. Deleting
 * an address makes the kernel drop the routes through it, so the routes are
 * put back on `from` (registered first, undone last) after its addresses return.
 */
export async function moveAddresses(ctx: Context, tx: Transaction, from: string, to: string, addresses: IpAddress[], routes: Route[]): Promise<Moved> {
  const run = (cmd: Command) => ctx.ip.change(cmd);
  // With no routes there is nothing to put back (and nothing for host doctor to list).
  if (routes.length > 0) {
    tx.onRollback({
      what: `routes of ${from} (${routes.map(describeRoute).join(', ')})`,
      manual: routes.map((r) => formatCommand(ipRouteReplaceCommand(r, from))).join(' && '),
      run: async () => {
        for (const r of routes) await run(ipRouteReplaceCommand(r, from));
      },
    });
  }
  for (const a of addresses) {
    await run(ipAddrDelCommand(a, from));
    tx.onRollback({ what: `address ${addressCidr(a)} removed from ${from}`, manual: formatCommand(ipAddrAddCommand(a, from)), run: async () => void (await run(ipAddrAddCommand(a, from))) });
    await run(ipAddrAddCommand(a, to));
    tx.onRollback({ what: `address ${addressCidr(a)} on ${to}`, manual: formatCommand(ipAddrDelCommand(a, to)), run: async () => void (await run(ipAddrDelCommand(a, to))) });
  }
  for (const r of routes) {
    await run(ipRouteReplaceCommand(r, to));
    tx.onRollback({ what: `route ${describeRoute(r)} on ${to}`, manual: formatCommand(ipRouteDelCommand(r, to)), run: async () => void (await run(ipRouteDelCommand(r, to))) });
  }
  return { addresses: addresses.map(addressCidr), routes: routes.map(describeRoute) };
}

function findIface(links: Link[], name: string): Link {
  const link = links.find((l) => l.ifname === name);
  if (!link) throw new NotFoundError(`interface ${JSON.stringify(name)} not found`, 'list interfaces with: ip link');
  return link;
}

function validatePair(bridge: string, iface: string): void {
  validateLinkName('bridge', bridge);
  validateLinkName('interface', iface);
  if (bridge === iface) throw new UsageError(`cannot attach ${bridge} to itself`, 'name the bridge first, then the interface: kvmctl bridge attach BRIDGE IFACE');
}

/**
 * The local address of the ssh session kvmctl runs in: SSH_CONNECTION is
 * "CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT" (sshd sets it for the session).
 * An IPv4 client on an IPv6 socket shows as ::ffff:a.b.c.d.
 */
export function sessionAddress(env: Record<string, string | undefined>): string | undefined {
  const local = env.SSH_CONNECTION?.trim().split(/\s+/)[2];
  if (!local) return undefined;
  return local.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
}

/** The link whose addresses carry the ssh session, if it is one of these. */
function carriesSession(ctx: Context, link: Link): string | undefined {
  const local = sessionAddress(ctx.io.env);
  return local !== undefined && link.addresses.some((a) => a.local.toLowerCase() === local) ? local : undefined;
}

function movedText(m: Moved, to: string): string {
  const parts = [...m.addresses, ...m.routes.map((r) => `route ${r}`)];
  return parts.length > 0 ? `; moved ${parts.join(', ')} to ${to}` : '';
}

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
      return ctx.out.done(`${iface} is already attached to ${bridge}: unchanged`, { ...json, changed: false, moved: { addresses: [], routes: [] } });
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
    const record = await movesRecord(ctx);
    let moved: Moved = { addresses: [], routes: [] };
    await ctx.transaction(`bridge attach ${bridge} ${iface}`).run(async (tx) => {
      if (!br.flags.includes('UP')) {
        await ctx.ip.change(ipLinkSetStateCommand(bridge, 'up'));
        tx.onRollback({ what: `${bridge} up`, manual: formatCommand(ipLinkSetStateCommand(bridge, 'down')), run: async () => void (await ctx.ip.change(ipLinkSetStateCommand(bridge, 'down'))) });
      }
      if (nic.master !== bridge) {
        await ctx.ip.change(ipLinkSetMasterCommand(iface, bridge));
        tx.onRollback({ what: `${iface} in ${bridge}`, manual: formatCommand(ipLinkSetNoMasterCommand(iface)), run: async () => void (await ctx.ip.change(ipLinkSetNoMasterCommand(iface))) });
      }
      if (move) {
        const moving = configuredRoutes(routes, iface);
        moved = await moveAddresses(ctx, tx, iface, bridge, movable, moving);
        if (!ctx.dryRun) {
          const moves = movesByPort(await record.load());
          const before = moves[iface]?.bridge === bridge ? moves[iface] : undefined;
          moves[iface] = { bridge, iface, addresses: [...(before?.addresses ?? []), ...movable], routes: [...(before?.routes ?? []), ...moving] };
          await record.save(moves);
        }
      }
    });
    const window = confirmSeconds !== undefined && !ctx.dryRun ? await openConfirmWindow(ctx, 'attach', bridge, iface, confirmSeconds, !br.flags.includes('UP')) : undefined;
    ctx.out.done(`${iface} attached to ${bridge}${movedText(moved, bridge)}`, { ...json, changed: true, moved, ...(window ? { confirmBy: window.deadline } : {}) });
    if (window) ctx.out.warn(`this is reverted at ${window.deadline} (in ${confirmSeconds} s) unless you confirm it from a session that still reaches the host: ${window.confirm}`);
  });
}

export async function runBridgeDetach(ctx: Context, bridge: string, iface: string, opts: MoveOptions): Promise<void> {
  validatePair(bridge, iface);
  const confirmSeconds = parseConfirmTimeout(opts.confirmTimeout, Boolean(opts.moveAddress));
  await ctx.withLock(`bridge ${bridge}`, async () => {
    const [links, routes, { owners }] = await Promise.all([ctx.ip.links(), ctx.ip.routes(), vmsByInterface(ctx)]);
    const br = findBridge(links, bridge, ctx.uri);
    const nic = findIface(links, iface);
    const move = Boolean(opts.moveAddress);
    const json = { bridge, iface, moveAddress: move };
    if (nic.master === undefined) return ctx.out.done(`${iface} is not attached to any bridge: unchanged`, { ...json, changed: false, moved: { addresses: [], routes: [] } });
    if (nic.master !== bridge) throw new ConflictError(`${iface} is a port of ${nic.master}, not of ${bridge}`, `${kvmctlCommand(ctx.uri, 'bridge', 'detach', nic.master, iface)}`);
    const vm = owners.get(iface);
    if (nic.kind === 'tun' || vm) {
      throw new RefusedError(`${iface} is the interface of ${vm ? `running VM ${vm}` : 'a running VM'}`, 'change the VM\'s interface instead (it would come back when the VM restarts)');
    }
    const record = await movesRecord(ctx);
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
    let moved: Moved = { addresses: [], routes: [] };
    await ctx.transaction(`bridge detach ${bridge} ${iface}`).run(async (tx) => {
      await ctx.ip.change(ipLinkSetNoMasterCommand(iface));
      tx.onRollback({ what: `${iface} released from ${bridge}`, manual: formatCommand(ipLinkSetMasterCommand(iface, bridge)), run: async () => void (await ctx.ip.change(ipLinkSetMasterCommand(iface, bridge))) });
      if (move) moved = await moveAddresses(ctx, tx, bridge, iface, addresses, moving);
      if (recorded && !ctx.dryRun) {
        delete moves[iface];
        await record.save(moves);
      }
    });
    const window = confirmSeconds !== undefined && !ctx.dryRun ? await openConfirmWindow(ctx, 'detach', bridge, iface, confirmSeconds, false) : undefined;
    ctx.out.done(`${iface} detached from ${bridge}${movedText(moved, iface)}`, { ...json, changed: true, moved, ...(window ? { confirmBy: window.deadline } : {}) });
    if (window) ctx.out.warn(`this is reverted at ${window.deadline} (in ${confirmSeconds} s) unless you confirm it from a session that still reaches the host: ${window.confirm}`);
  });
}
