import type { Context } from '../../context.js';
import { formatCommand, kvmctlCommand } from '../../exec/command.js';
import { ConflictError, KvmctlError, NotFoundError, UsageError } from '../../errors.js';
import { ToolError } from '../../exec/runner.js';
import {
  loadNetworks,
  netAutostartCommand,
  netDefineCommand,
  netDestroyCommand,
  netDumpxmlCommand,
  netStartCommand,
  netUndefineCommand,
  type NetworkRecord,
} from '../../libvirt/network-commands.js';
import {
  buildNetworkXml,
  CREATABLE_MODES,
  parseNetworkXml,
  subnetOf,
  type CreatableMode,
  type NetworkDefinition,
  type NetworkSpec,
} from '../../libvirt/network-xml.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { encodeXml } from '../../libvirt/xml-codec.js';
import { findBridge, loadLinks, loadRoutes, type Link, type Route } from '../../net/ip.js';
import {
  blockOf,
  cidrFromTool,
  firstHost,
  formatCidr,
  formatIpv4,
  lastHost,
  overlaps,
  parseIpv4,
  parseSubnet,
  type Cidr,
} from '../../net/ipv4.js';
import { validateLibvirtBridgeName, validateLinkName } from '../../net/link-name.js';
import { HOSTNAME as DNS_NAME } from '../../validate/hostname.js';
import { validateName } from '../../validate/names.js';

export interface NetCreateOptions {
  mode?: string;
  subnet?: string;
  dhcpRange?: string;
  /** commander's --no-dhcp: false when given. */
  dhcp?: boolean;
  bridgeName?: string;
  forwardDev?: string;
  domain?: string;
  start?: boolean;
  autostart?: boolean;
  printXml?: boolean;
}

/** What the user asked for, validated; the subnet may still be chosen from the host's state. */
interface Request {
  name: string;
  mode: CreatableMode;
  subnet?: Cidr;
  dhcp: 'default' | 'off' | { start: number; end: number };
  bridge?: string;
  forwardDev?: string;
  domain?: string;
  start: boolean;
  autostart: boolean;
}

/** Checks the options before anything runs (exit 2). */
export function parseCreateRequest(name: string, opts: NetCreateOptions, uri?: string): Request {
  validateName('network', name);
  const mode = opts.mode as CreatableMode;
  if (!CREATABLE_MODES.includes(mode)) {
    throw new UsageError(`invalid --mode ${JSON.stringify(opts.mode ?? '')} for network ${JSON.stringify(name)}`, `use --mode ${CREATABLE_MODES.join(', --mode ')}`);
  }
  if (opts.dhcpRange !== undefined && opts.dhcp === false) {
    throw new UsageError('--dhcp-range and --no-dhcp contradict each other', 'give one of them');
  }
  if (opts.bridgeName !== undefined) validateLibvirtBridgeName(opts.bridgeName);
  if (opts.forwardDev !== undefined) validateLinkName('interface', opts.forwardDev);
  if (opts.domain !== undefined && !DNS_NAME.test(opts.domain)) {
    throw new UsageError(`invalid --domain ${JSON.stringify(opts.domain)}: not a DNS domain name`, 'use labels of letters, digits and -, separated by dots, e.g. --domain lab.local');
  }
  if (mode === 'bridge') {
    if (opts.bridgeName === undefined) {
      throw new UsageError(`--mode bridge needs --bridge-name: the existing host bridge the network's VMs join`, `e.g. ${kvmctlCommand(uri, 'net', 'create', name, '--mode', 'bridge', '--bridge-name', 'br0')}`);
    }
    const extra = (
      [
        ['--subnet', opts.subnet],
        ['--dhcp-range', opts.dhcpRange],
        ['--no-dhcp', opts.dhcp === false ? true : undefined],
        ['--forward-dev', opts.forwardDev],
        ['--domain', opts.domain],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (extra.length > 0) {
      throw new UsageError(
        `--mode bridge does not take ${extra.map(([f]) => f).join(', ')}: addresses and DHCP come from the LAN the bridge is on`,
        'leave them out, or use --mode nat/route/isolated for a network with its own subnet',
      );
    }
  }
  if (mode === 'isolated' && opts.forwardDev !== undefined) {
    throw new UsageError('--forward-dev needs --mode nat or route: an isolated network forwards nowhere', 'leave out --forward-dev, or use --mode nat');
  }
  const subnet = opts.subnet !== undefined ? parseSubnet(opts.subnet) : undefined;
  let dhcp: Request['dhcp'] = opts.dhcp === false ? 'off' : 'default';
  if (opts.dhcpRange !== undefined) dhcp = parseDhcpRange(opts.dhcpRange, subnet);
  return {
    name,
    mode,
    subnet,
    dhcp,
    bridge: opts.bridgeName,
    forwardDev: opts.forwardDev,
    domain: opts.domain,
    start: opts.start !== false,
    autostart: opts.autostart !== false,
  };
}

function parseDhcpRange(text: string, subnet: Cidr | undefined): { start: number; end: number } {
  const m = /^([^-\s]+)-([^-\s]+)$/.exec(text);
  const start = m ? parseIpv4(m[1] ?? '') : undefined;
  const end = m ? parseIpv4(m[2] ?? '') : undefined;
  if (start === undefined || end === undefined) {
    throw new UsageError(`invalid --dhcp-range ${JSON.stringify(text)}`, 'give it as FROM-TO, e.g. --dhcp-range 10.10.0.100-10.10.0.200');
  }
  if (start > end) throw new UsageError(`invalid --dhcp-range ${text}: ${formatIpv4(start)} comes after ${formatIpv4(end)}`, 'give the lower address first');
  if (subnet === undefined) throw new UsageError('--dhcp-range needs --subnet', 'give the subnet the range lies in, e.g. --subnet 10.10.0.0/24');
  checkRangeInSubnet({ start, end }, subnet);
  return { start, end };
}

function checkRangeInSubnet(range: { start: number; end: number }, subnet: Cidr): void {
  const text = `${formatIpv4(range.start)}-${formatIpv4(range.end)}`;
  const gateway = firstHost(subnet);
  if (range.start < gateway + 1 || range.end > lastHost(subnet)) {
    throw new UsageError(
      `--dhcp-range ${text} is not inside the hosts of ${formatCidr(subnet)} after the gateway ${formatIpv4(gateway)}`,
      `use addresses from ${formatIpv4(gateway + 1)} to ${formatIpv4(lastHost(subnet))}`,
    );
  }
}

/** The default DHCP range: every host address after the gateway (.2-.254 for a /24, scaled to the prefix). */
export function defaultDhcpRange(subnet: Cidr): { start: number; end: number } {
  return { start: firstHost(subnet) + 1, end: lastHost(subnet) };
}

export function specFor(req: Request, subnet: Cidr | undefined): NetworkSpec {
  const spec: NetworkSpec = { name: req.name, mode: req.mode, bridge: req.bridge, forwardDev: req.forwardDev, domain: req.domain };
  if (req.mode !== 'bridge' && subnet) {
    const range = req.dhcp === 'off' ? undefined : req.dhcp === 'default' ? defaultDhcpRange(subnet) : req.dhcp;
    spec.ipv4 = {
      address: formatIpv4(firstHost(subnet)),
      prefix: subnet.prefix,
      dhcpRange: range && { start: formatIpv4(range.start), end: formatIpv4(range.end) },
    };
  }
  return spec;
}

/** How an existing definition differs from the spec; empty when it is the same network. */
export function specDifferences(spec: NetworkSpec, def: NetworkDefinition): string[] {
  const diffs: string[] = [];
  const same = (what: string, asked: unknown, has: unknown) => {
    if ((asked ?? null) !== (has ?? null)) diffs.push(`${what}: asked ${String(asked ?? 'none')}, defined ${String(has ?? 'none')}`);
  };
  same('mode', spec.mode, def.forwardMode);
  // libvirt names the bridge when the spec does not.
  if (spec.bridge !== undefined || spec.mode === 'bridge') same('bridge', spec.bridge, def.bridge);
  same('forward device', spec.forwardDev, def.forwardDev);
  same('DNS domain', spec.domain, def.domain);
  const v4 = def.ips.filter((i) => i.family === 'ipv4');
  if (v4.length > 1) diffs.push(`it has ${v4.length} IPv4 addresses`);
  if (def.ips.some((i) => i.family === 'ipv6')) diffs.push('it has IPv6 addresses');
  const ip = v4[0];
  same('address', spec.ipv4 ? `${spec.ipv4.address}/${spec.ipv4.prefix}` : undefined, ip ? `${ip.address}/${ip.prefix}` : undefined);
  const asked = spec.ipv4?.dhcpRange;
  const has = ip?.dhcpRanges;
  same('DHCP range', asked ? `${asked.start}-${asked.end}` : undefined, has && has.length > 0 ? has.map((r) => `${r.start}-${r.end}`).join(', ') : undefined);
  return diffs;
}

/** An address block in use, and by what (for the message). */
interface Taken {
  block: Cidr;
  what: string;
}

/** Blocks a new subnet must not overlap: other networks, host addresses, routes (not the default route). */
export function takenBlocks(networks: NetworkRecord[], links: Link[], routes: Route[]): Taken[] {
  const taken: Taken[] = [];
  for (const n of networks) {
    for (const ip of n.definition.ips.filter((i) => i.family === 'ipv4')) {
      const block = cidrFromTool(subnetOf(ip));
      if (block) taken.push({ block, what: `libvirt network ${JSON.stringify(n.name)} (${formatCidr(block)})` });
    }
  }
  for (const l of links) {
    for (const a of l.addresses.filter((x) => x.family === 'inet')) {
      const address = parseIpv4(a.local);
      if (address !== undefined) taken.push({ block: blockOf(address, a.prefixlen), what: `address ${a.local}/${a.prefixlen} of ${l.ifname}` });
    }
  }
  for (const r of routes) {
    const block = r.dst === 'default' ? undefined : cidrFromTool(r.dst);
    if (block) taken.push({ block, what: `route ${r.dst}${r.dev ? ` dev ${r.dev}` : ''}` });
  }
  return taken;
}

/** The first 192.168.N.0/24 (N from 100) that overlaps nothing, as virt-manager picks one. */
export function freeSubnet(taken: Taken[]): Cidr | undefined {
  for (let n = 100; n <= 254; n++) {
    const candidate: Cidr = { network: parseIpv4(`192.168.${n}.0`) as number, prefix: 24 };
    if (!taken.some((t) => overlaps(t.block, candidate))) return candidate;
  }
  return undefined;
}

export async function runNetCreate(ctx: Context, name: string, opts: NetCreateOptions): Promise<void> {
  const req = parseCreateRequest(name, opts, ctx.uri);
  await ctx.withLock(`net ${name}`, async () => {
    const networks = await loadNetworks(ctx.runner, ctx.uri, { leases: false });
    const existing = networks.find((n) => n.name === name);
    if (existing) return converge(ctx, req, existing, Boolean(opts.printXml));

    const [links, routes] = await Promise.all([loadLinks(ctx.runner), loadRoutes(ctx.runner)]);
    checkBridgeAndDevice(req, networks, links, ctx.uri);
    let subnet = req.subnet;
    if (req.mode !== 'bridge') {
      const taken = takenBlocks(networks, links, routes);
      if (subnet) {
        const clash = taken.find((t) => overlaps(t.block, subnet as Cidr));
        if (clash) {
          const free = freeSubnet(taken);
          throw new ConflictError(
            `cannot create network ${JSON.stringify(name)}: subnet ${formatCidr(subnet)} overlaps ${clash.what}`,
            free ? `choose a free subnet, e.g. --subnet ${formatCidr(free)}` : 'choose a subnet that no network, address or route of this host uses',
          );
        }
      } else {
        subnet = freeSubnet(taken);
        if (!subnet) throw new ConflictError(`cannot create network ${JSON.stringify(name)}: every 192.168.100-254.0/24 is in use on this host`, 'give a free subnet with --subnet');
      }
      if (req.dhcp !== 'off' && req.dhcp !== 'default') checkRangeInSubnet(req.dhcp, subnet);
    }
    const spec = specFor(req, subnet);
    const xml = encodeXml(buildNetworkXml(spec));
    if (opts.printXml) return ctx.out.raw(xml);
    await define(ctx, req, spec, xml);
  });
}

function checkBridgeAndDevice(req: Request, networks: NetworkRecord[], links: Link[], uri: string): void {
  if (req.bridge !== undefined) {
    const link = links.find((l) => l.ifname === req.bridge);
    const user = networks.find((n) => n.definition.bridge === req.bridge);
    if (req.mode === 'bridge') {
      findBridge(links, req.bridge, uri);
    } else if (user) {
      throw new ConflictError(`bridge name ${req.bridge} is already used by libvirt network ${JSON.stringify(user.name)}`, 'choose another --bridge-name, or leave it out and libvirt picks a free virbrN');
    } else if (link) {
      throw new ConflictError(`an interface named ${req.bridge} already exists on this host`, 'choose another --bridge-name, or leave it out and libvirt picks a free virbrN');
    }
  }
  if (req.forwardDev !== undefined && !links.some((l) => l.ifname === req.forwardDev)) {
    throw new NotFoundError(`--forward-dev ${req.forwardDev}: no such interface on this host`, 'list interfaces with: ip link');
  }
}

/** The network exists: same spec -> bring it to the asked state ("unchanged" if it is); else exit 4. */
async function converge(ctx: Context, req: Request, existing: NetworkRecord, printXml: boolean): Promise<void> {
  const ipv4 = existing.definition.ips.find((i) => i.family === 'ipv4');
  const subnet = req.subnet ?? (ipv4 ? cidrFromTool(subnetOf(ipv4)) : undefined);
  const spec = specFor(req, subnet);
  const diffs = specDifferences(spec, existing.definition);
  if (diffs.length > 0) {
    throw new ConflictError(
      `network ${JSON.stringify(req.name)} already exists with a different definition (${diffs.join('; ')})`,
      `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'net', 'delete', req.name)}`,
    );
  }
  if (printXml) return ctx.out.raw(encodeXml(buildNetworkXml(spec)));
  const steps: string[] = [];
  if (req.start && !existing.active) {
    await startNetwork(ctx, req.name);
    steps.push('started');
  }
  if (req.autostart && !existing.autostart && existing.persistent) {
    await runVirsh(ctx.runner, netAutostartCommand(ctx.uri, req.name, true), { kind: 'network', name: req.name });
    steps.push('autostart on');
  }
  const summary = { name: req.name, changed: steps.length > 0, subnet: subnet ? formatCidr(subnet) : undefined, bridge: existing.definition.bridge };
  ctx.out.done(steps.length > 0 ? `network ${req.name} already defined; ${steps.join(', ')}` : `network ${req.name} unchanged`, summary);
}

/** Starting is where libvirt finds a busy bridge name or subnet, or a dnsmasq that will not run. */
async function startNetwork(ctx: Context, name: string): Promise<void> {
  try {
    await runVirsh(ctx.runner, netStartCommand(ctx.uri, name), { kind: 'network', name });
  } catch (e) {
    if (!(e instanceof KvmctlError)) throw e;
    throw new ToolError(
      netStartCommand(ctx.uri, name),
      { stdout: '', stderr: e.message, exitCode: 1 },
      `network ${JSON.stringify(name)} could not start: ${e.message.replace(/^network "[^"]*": /, '')}`,
      'check that its bridge name and subnet are free (kvmctl bridge list, ip route) and see libvirtd\'s log for dnsmasq errors',
    );
  }
}

async function define(ctx: Context, req: Request, spec: NetworkSpec, xml: string): Promise<void> {
  const subject = { kind: 'network' as const, name: req.name };
  await ctx.transaction(`net create ${req.name}`).run(async (tx) => {
    await runVirsh(ctx.runner, netDefineCommand(ctx.uri, xml), subject);
    tx.onRollback({
      what: `libvirt network ${req.name}`,
      manual: formatCommand(netUndefineCommand(ctx.uri, req.name)),
      run: async () => void (await runVirsh(ctx.runner, netUndefineCommand(ctx.uri, req.name), subject)),
    });
    if (req.start) {
      await startNetwork(ctx, req.name);
      tx.onRollback({
        what: `running network ${req.name}`,
        manual: formatCommand(netDestroyCommand(ctx.uri, req.name)),
        run: async () => void (await runVirsh(ctx.runner, netDestroyCommand(ctx.uri, req.name), subject)),
      });
    }
    if (req.autostart) await runVirsh(ctx.runner, netAutostartCommand(ctx.uri, req.name, true), subject);
  });
  // libvirt picks the bridge name when none was asked for; read it back to report it.
  const bridge = spec.bridge ?? (ctx.dryRun ? undefined : (await parseNetworkXml(await runVirsh(ctx.runner, netDumpxmlCommand(ctx.uri, req.name), subject))).bridge);
  const ip = spec.ipv4;
  const subnet = ip ? formatCidr(blockOf(parseIpv4(ip.address) as number, ip.prefix)) : undefined;
  const parts = [
    req.mode,
    subnet && `subnet ${subnet}`,
    ip && `gateway ${ip.address}`,
    ip && (ip.dhcpRange ? `DHCP ${ip.dhcpRange.start}-${ip.dhcpRange.end}` : 'no DHCP'),
    bridge && `bridge ${bridge}`,
  ].filter(Boolean);
  const state = [req.start ? 'started' : 'not started', req.autostart ? 'autostart on' : 'autostart off'].join(', ');
  ctx.out.done(`network ${req.name} created (${parts.join(', ')}); ${state}`, {
    name: req.name,
    changed: true,
    mode: req.mode,
    subnet,
    gateway: ip?.address,
    dhcpRange: ip?.dhcpRange,
    bridge,
    active: req.start,
    autostart: req.autostart,
  });
}

