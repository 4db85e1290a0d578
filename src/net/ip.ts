/**
 * `ip -j` (iproute2 JSON output): links, addresses, routes, bridges and their
 * ports; and the argv of every `ip` change kvmctl makes.
 */
import { kvmctlCommand, mutatingCommand, readCommand, type Command } from '../exec/command.js';
import { runChecked, type Runner } from '../exec/runner.js';
import { NotFoundError, UsageError } from '../errors.js';

export function ipAddrShowCommand(): Command {
  return readCommand('ip', ['-j', '-d', 'addr', 'show']);
}

export interface IpAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
  /** IPv4 broadcast address, when set. */
  broadcast?: string;
  /** Set by DHCP/SLAAC with a lifetime, rather than configured. */
  dynamic?: boolean;
}

export interface Link {
  ifname: string;
  ifindex: number;
  operstate: string;
  mtu: number;
  address?: string;
  /** The bridge (or bond) this link is enslaved to. */
  master?: string;
  /** linkinfo.info_kind: bridge, veth, tun, dummy, ... */
  kind?: string;
  /** For bridges: spanning tree state (0 off, 1 kernel, 2 user). */
  stpState?: number;
  flags: string[];
  addresses: IpAddress[];
}

interface RawLink {
  ifname?: string;
  ifindex?: number;
  operstate?: string;
  mtu?: number;
  address?: string;
  master?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { stp_state?: number } };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string; broadcast?: string; dynamic?: boolean }>;
}

/**
 * `ip -j` copies an interface name's bytes into its JSON strings as they are
 * (iproute2's json_writer escapes only quotes, backslashes and a few named
 * controls), and the kernel accepts ESC, BEL and the like in a name: such
 * bytes are invalid JSON, so they are escaped before parsing. Outside strings
 * ip prints no control characters but the final newline.
 */
function parseIpJson<T>(json: string): T {
  return JSON.parse((json || '[]').trimEnd().replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)) as T;
}

export function parseIpLinks(json: string): Link[] {
  const raw = parseIpJson<RawLink[]>(json);
  return raw
    .filter((r) => typeof r.ifname === 'string')
    .map((r) => ({
      ifname: r.ifname as string,
      ifindex: r.ifindex ?? 0,
      operstate: r.operstate ?? 'UNKNOWN',
      mtu: r.mtu ?? 0,
      address: r.address,
      master: r.master,
      kind: r.linkinfo?.info_kind,
      stpState: r.linkinfo?.info_data?.stp_state,
      flags: r.flags ?? [],
      addresses: (r.addr_info ?? [])
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local !== undefined)
        .map((a) => ({
          family: a.family as 'inet' | 'inet6',
          local: a.local as string,
          prefixlen: a.prefixlen ?? 0,
          scope: a.scope,
          ...(a.broadcast !== undefined ? { broadcast: a.broadcast } : {}),
          ...(a.dynamic ? { dynamic: true } : {}),
        })),
    }));
}

export interface BridgeInfo {
  name: string;
  state: string;
  mtu: number;
  stp: boolean;
  addresses: string[];
  ports: string[];
}

export function bridgesOf(links: Link[]): BridgeInfo[] {
  return links
    .filter((l) => l.kind === 'bridge')
    .map((b) => ({
      name: b.ifname,
      state: b.operstate,
      mtu: b.mtu,
      stp: (b.stpState ?? 0) !== 0,
      addresses: b.addresses.map((a) => `${a.local}/${a.prefixlen}`),
      ports: links.filter((l) => l.master === b.ifname).map((l) => l.ifname),
    }));
}

/** The named link, which must exist (exit 3) and be a bridge (exit 2). */
export function findBridge(links: Link[], name: string, uri?: string): Link {
  const link = links.find((l) => l.ifname === name);
  if (!link) throw new NotFoundError(`bridge ${JSON.stringify(name)} not found`, `list bridges with: ${kvmctlCommand(uri, 'bridge', 'list')}; create one with: ${kvmctlCommand(uri, 'bridge', 'create', name)}`, { object: { kind: 'bridge', name } });
  if (link.kind !== 'bridge') throw new UsageError(`${name} is not a bridge (it is a ${link.kind ?? 'plain'} interface)`, `name a Linux bridge; list them with: ${kvmctlCommand(uri, 'bridge', 'list')}`);
  return link;
}

/** Addresses that belong to the link's network, rather than to the host itself or to autoconfiguration. */
export function movableAddresses(link: Link): IpAddress[] {
  return link.addresses.filter((a) => (a.family === 'inet' ? a.scope !== 'host' : a.scope === 'global' && !a.dynamic));
}

// ---- routes ----------------------------------------------------------------

export type IpFamily = 4 | 6;

/** The main routing table of one family. */
export function ipRouteShowCommand(family: IpFamily): Command {
  return readCommand('ip', ['-j', ...(family === 6 ? ['-6'] : []), 'route', 'show']);
}

export interface Route {
  family: IpFamily;
  /** "default" or a prefix such as 10.0.0.0/24 (a host route has no /32). */
  dst: string;
  gateway?: string;
  dev?: string;
  /** kernel, boot, static, dhcp, ra, ...; iproute2 omits "boot". */
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  /** unicast when absent; blackhole, unreachable, ... otherwise. */
  type?: string;
  flags: string[];
}

/** A route as `ip -j route` prints it: the same fields, none guaranteed. */
type RawRoute = Partial<Omit<Route, 'family'>>;

export function parseIpRoutes(json: string, family: IpFamily): Route[] {
  const raw = parseIpJson<RawRoute[]>(json);
  return raw
    .filter((r) => typeof r.dst === 'string')
    .map((r) => ({
      family,
      dst: r.dst as string,
      gateway: r.gateway,
      dev: r.dev,
      protocol: r.protocol,
      scope: r.scope,
      prefsrc: r.prefsrc,
      metric: r.metric,
      type: r.type,
      flags: r.flags ?? [],
    }));
}

/** The interfaces that carry a default route, of either family. */
export function defaultRouteDevices(routes: Route[]): Set<string> {
  return new Set(routes.filter((r) => r.dst === 'default' && r.dev !== undefined).map((r) => r.dev as string));
}

/**
 * Routes someone configured on a device: the kernel recreates its own
 * (proto kernel) with the addresses, and router advertisements (proto ra) are
 * learnt again on whichever device now holds the link.
 */
export function configuredRoutes(routes: Route[], dev: string): Route[] {
  return routes.filter((r) => r.dev === dev && r.protocol !== 'kernel' && r.protocol !== 'ra' && (r.type === undefined || r.type === 'unicast'));
}

// ---- changes ---------------------------------------------------------------

export function ipBridgeAddCommand(name: string, stp: boolean): Command {
  return mutatingCommand('ip', ['link', 'add', 'name', name, 'type', 'bridge', 'stp_state', stp ? '1' : '0']);
}

export function ipLinkDeleteCommand(name: string): Command {
  return mutatingCommand('ip', ['link', 'delete', 'dev', name]);
}

export function ipLinkSetStateCommand(name: string, state: 'up' | 'down'): Command {
  return mutatingCommand('ip', ['link', 'set', 'dev', name, state]);
}

export function ipLinkSetMasterCommand(iface: string, bridge: string): Command {
  return mutatingCommand('ip', ['link', 'set', 'dev', iface, 'master', bridge]);
}

export function ipLinkSetNoMasterCommand(iface: string): Command {
  return mutatingCommand('ip', ['link', 'set', 'dev', iface, 'nomaster']);
}

/** "192.168.1.5/24" as ip(8) takes it back. */
export function addressCidr(a: Pick<IpAddress, 'local' | 'prefixlen'>): string {
  return `${a.local}/${a.prefixlen}`;
}

export function ipAddrAddCommand(address: Pick<IpAddress, 'family' | 'local' | 'prefixlen' | 'broadcast'>, dev: string): Command {
  const family = address.family === 'inet6' ? ['-6'] : [];
  const broadcast = address.broadcast !== undefined ? ['broadcast', address.broadcast] : [];
  return mutatingCommand('ip', [...family, 'addr', 'add', addressCidr(address), ...broadcast, 'dev', dev]);
}

export function ipAddrDelCommand(address: Pick<IpAddress, 'family' | 'local' | 'prefixlen'>, dev: string): Command {
  const family = address.family === 'inet6' ? ['-6'] : [];
  return mutatingCommand('ip', [...family, 'addr', 'del', addressCidr(address), 'dev', dev]);
}

/** The words that describe a route to `ip route` on another device (dev is replaced). */
export function routeSpec(route: Route, dev: string): string[] {
  const words = [route.dst];
  if (route.gateway !== undefined) words.push('via', route.gateway);
  words.push('dev', dev);
  if (route.protocol !== undefined) words.push('proto', route.protocol);
  // iproute2 prints the scope only when it is not the default for the route.
  if (route.scope !== undefined) words.push('scope', route.scope);
  if (route.prefsrc !== undefined) words.push('src', route.prefsrc);
  if (route.metric !== undefined) words.push('metric', String(route.metric));
  if (route.flags.includes('onlink')) words.push('onlink');
  return words;
}

/** `ip route replace`: adds the route, or changes it when one with the same key exists. */
export function ipRouteReplaceCommand(route: Route, dev: string): Command {
  return mutatingCommand('ip', [...(route.family === 6 ? ['-6'] : []), 'route', 'replace', ...routeSpec(route, dev)]);
}

export function ipRouteDelCommand(route: Route, dev: string): Command {
  return mutatingCommand('ip', [...(route.family === 6 ? ['-6'] : []), 'route', 'del', ...routeSpec(route, dev)]);
}

/** ip bound to a runner: reads links and routes, and runs the changes built above. */
export class Ip {
  constructor(private readonly runner: Runner) {}

  /** Every link with its addresses, in one `ip` process. */
  async links(): Promise<Link[]> {
    return parseIpLinks(await runChecked(this.runner, ipAddrShowCommand()));
  }

  /** The main routing tables of both families, in two `ip` processes. */
  async routes(): Promise<Route[]> {
    const [v4, v6] = await Promise.all([runChecked(this.runner, ipRouteShowCommand(4)), runChecked(this.runner, ipRouteShowCommand(6))]);
    return [...parseIpRoutes(v4, 4), ...parseIpRoutes(v6, 6)];
  }

  /** Runs one change built above (ipLinkSetMasterCommand, ipAddrAddCommand, ...); a failure is a ToolError naming it. */
  async change(cmd: Command): Promise<void> {
    await runChecked(this.runner, cmd);
  }
}
