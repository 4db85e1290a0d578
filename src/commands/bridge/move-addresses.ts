/**
 * What bridge attach and detach share: their options, the checks of the pair
 * of names and of the ssh session, and moving addresses and routes from one
 * device to another inside the verb's transaction, so a failing step puts
 * everything back where it was.
 */
import type { Context } from '../../context.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { formatCommand } from '../../exec/command.js';
import type { Step } from '../../exec/plan.js';
import { addressCidr, ipAddrAddCommand, ipAddrDelCommand, ipRouteDelCommand, ipRouteReplaceCommand, type IpAddress, type Link, type Route } from '../../net/ip.js';
import { validateLinkName } from '../../net/link-name.js';
import { openConfirmWindow } from './confirm.js';
import { arg, flag, value, verbOn, type OptionsOf } from '../../verb.js';

const bridgeNameArg = arg('<bridge>', 'bridge name');

/** A verb on one bridge and one of the host's interfaces (`kvmctl bridge attach BRIDGE IFACE`). */
export const bridgeVerb = verbOn([bridgeNameArg]);

/** attach's and detach's options: one shape, each verb's own help text. */
export function moveOptions(moveAddress: string, confirmTimeout: string) {
  return {
    moveAddress: flag('--move-address', moveAddress),
    /** Seconds after which the move is reverted unless `kvmctl bridge confirm` keeps it. */
    confirmTimeout: value('--confirm-timeout <seconds>', confirmTimeout),
  };
}
export type MoveOptions = OptionsOf<ReturnType<typeof moveOptions>>;

export interface Moved {
  addresses: string[];
  routes: string[];
}

function describeRoute(r: Route): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`;
}

/**
 * The steps that move addresses and configured routes from one device to
 * another. Deleting an address makes the kernel drop the routes through it,
 * so undoing the first address's removal also puts the routes back on `from`
 * (it is undone last, after every address has returned).
 */
export function moveSteps(ctx: Context, from: string, to: string, addresses: IpAddress[], routes: Route[]): Step[] {
  const restoreRoutes = routes.map((r) => ipRouteReplaceCommand(r, from));
  const steps = addresses.flatMap((a, i): Step[] => {
    const back = [ipAddrAddCommand(a, from), ...(i === 0 ? restoreRoutes : [])];
    const removed: Step =
      back.length === 1
        ? { what: `address ${addressCidr(a)} removed from ${from}`, do: { command: ipAddrDelCommand(a, from) }, undo: { command: ipAddrAddCommand(a, from) } }
        : {
            what: `address ${addressCidr(a)} removed from ${from}, and its routes (${routes.map(describeRoute).join(', ')})`,
            do: { command: ipAddrDelCommand(a, from) },
            undo: {
              run: async () => {
                for (const cmd of back) await ctx.ip.change(cmd);
              },
              describe: back.map(formatCommand).join(' && '),
            },
            manual: back.map(formatCommand).join(' && '),
          };
    return [removed, { what: `address ${addressCidr(a)} on ${to}`, do: { command: ipAddrAddCommand(a, to) }, undo: { command: ipAddrDelCommand(a, to) } }];
  });
  return [...steps, ...routes.map((r): Step => ({ what: `route ${describeRoute(r)} on ${to}`, do: { command: ipRouteReplaceCommand(r, to) }, undo: { command: ipRouteDelCommand(r, to) } }))];
}

/** What moveSteps moves, for the report. */
export function movedOf(addresses: IpAddress[], routes: Route[]): Moved {
  return { addresses: addresses.map(addressCidr), routes: routes.map(describeRoute) };
}

export function findIface(links: Link[], name: string): Link {
  const link = links.find((l) => l.ifname === name);
  if (!link) throw new NotFoundError(`interface ${JSON.stringify(name)} not found`, 'list interfaces with: ip link');
  return link;
}

export function validatePair(bridge: string, iface: string): void {
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
export function carriesSession(ctx: Context, link: Link): string | undefined {
  const local = sessionAddress(ctx.io.env);
  return local !== undefined && link.addresses.some((a) => a.local.toLowerCase() === local) ? local : undefined;
}

export function movedText(m: Moved, to: string): string {
  const parts = [...m.addresses, ...m.routes.map((r) => `route ${r}`)];
  return parts.length > 0 ? `; moved ${parts.join(', ')} to ${to}` : '';
}

/** Says what attach or detach did; with --confirm-timeout it first opens the window that reverts it unless confirmed. */
export async function reportMove(
  ctx: Context,
  change: 'attach' | 'detach',
  pair: { bridge: string; iface: string; moveAddress: boolean },
  moved: Moved,
  confirm: { seconds?: number; broughtUp: boolean },
): Promise<void> {
  const { bridge, iface } = pair;
  const window = confirm.seconds !== undefined && !ctx.dryRun ? await openConfirmWindow(ctx, change, bridge, iface, confirm.seconds, confirm.broughtUp) : undefined;
  const what = change === 'attach' ? `${iface} attached to ${bridge}${movedText(moved, bridge)}` : `${iface} detached from ${bridge}${movedText(moved, iface)}`;
  ctx.out.done(what, { ...pair, changed: true, moved, confirmBy: window ? window.deadline : null });
  if (window) ctx.out.warn(`this is reverted at ${window.deadline} (in ${confirm.seconds} s) unless you confirm it from a session that still reaches the host: ${window.confirm}`);
}
