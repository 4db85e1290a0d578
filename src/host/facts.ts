/**
 * Gathers everything `kvmctl host` and `kvmctl host check` report, in a constant
 * number of subprocesses: one virsh session (two rounds), one `ip -j`, one `iptables-save`.
 */
import type { Context } from '../context.js';
import { RefusedError, TimeoutError } from '../errors.js';
import { formatCommand } from '../exec/command.js';
import { ToolError } from '../exec/runner.js';
import { findOnPath } from '../local-fs.js';
import { hostCalls, parseCapabilities, offeredDomainTypes, parseHostModelFeatures, parseNodeinfo, parseVersion, type Capabilities } from '../libvirt/capabilities.js';
import { interfaceNames, numberStat, parseDomstats, pausedForMigration, stateName } from '../libvirt/domstats.js';
import { parseNetList, parseNetworkXml, subnetOf, type NetworkDefinition } from '../libvirt/network-xml.js';
import { domainCalls } from '../libvirt/domain-commands.js';
import { networkCalls } from '../libvirt/network-commands.js';
import { poolCalls } from '../libvirt/storage.js';
import type { VirshSession } from '../libvirt/virsh-client.js';
import { bridgesOf } from '../net/ip.js';
import { chainPolicy } from '../net/iptables-save.js';
import { natRules, type NatRule } from '../net/rule-owner.js';
import { sshTargetName } from '../net/host-access.js';
import { IP_FORWARD_PATH } from '../net/sysctl.js';
import { assessFromLibvirt, assessVirtualization, readVirtualizationInputs, type Virtualization } from './virtualization.js';

export interface LibvirtFacts {
  uri: string;
  reachable: boolean;
  error?: string;
  libraryVersion?: string;
  daemonVersion?: string;
  hypervisor?: string;
  domainTypes: string[];
}

export interface Usage {
  vms: number;
  vcpus: number;
  memoryBytes: number;
}

/** A VM that comes in by a migration: with -H, counted on the host it comes from, not here. */
export interface IncomingVm {
  name: string;
  /** The inventory name of the host it comes from (where it still runs). */
  from: string;
  vcpus: number;
  memoryBytes: number;
}

export interface CapacityFacts {
  hostCpus?: number;
  hostMemoryBytes?: number;
  running: Usage;
  defined: Usage;
  /** VMs migrating in, not counted in running or defined (only -H finds them: their source is another host of the report). */
  incoming: IncomingVm[];
  /** Assigned vCPUs / host CPUs. */
  cpuOvercommit: { running?: number; defined?: number };
  memoryOvercommit: { running?: number; defined?: number };
}

export interface BridgeFacts {
  name: string;
  state: string;
  mtu: number;
  stp: boolean;
  addresses: string[];
  ports: Array<{ name: string; vm?: string }>;
}

export interface NatFacts {
  ipForward?: boolean;
  forwardPolicy?: string;
  /** net.bridge.bridge-nf-call-iptables: bridged frames pass through iptables (br_netfilter). */
  bridgeNfCallIptables?: boolean;
  rules: NatRule[];
  error?: string;
}

export interface NetworkFacts {
  name: string;
  active: boolean;
  autostart: boolean;
  persistent: boolean;
  bridge?: string;
  mode: string;
  subnet?: string;
  dhcpRange?: string;
}

export interface ToolFacts {
  name: string;
  path?: string;
}

/** How the facts libvirt does not give (bridges, NAT, sysctls) were read. */
export interface HostAccessFacts {
  kind: 'local' | 'ssh' | 'none';
  /** user@host[:port] for ssh. */
  target?: string;
  /** Why they are not available, for kind none. */
  reason?: string;
}

export interface HostFacts {
  uri: string;
  access: HostAccessFacts;
  virtualization: Virtualization;
  libvirt: LibvirtFacts;
  capacity: CapacityFacts;
  bridges: BridgeFacts[];
  bridgesError?: string;
  nat: NatFacts;
  networks: NetworkFacts[];
  pools: string[];
  tools: ToolFacts[];
  /** Every domain's usage, as the capacity counts it (not printed). */
  domains: DomainUsage[];
}

const TOOLS = ['virsh', 'qemu-img', 'ip', 'iptables'];
/** For another host only the client side is this machine's: the other tools run there. */
const REMOTE_TOOLS = ['virsh'];
const BR_NF_CALL_IPTABLES_PATH = '/proc/sys/net/bridge/bridge-nf-call-iptables';

export interface DomainUsage {
  name: string;
  state: string;
  vcpus: number;
  memoryBytes: number;
  interfaces: string[];
  /** Paused for a migration (libvirt's reason "migrating"): on the target while it comes in, on the source at the switch-over. */
  migrating: boolean;
}

const ACTIVE_STATES = new Set(['running', 'paused', 'blocked']);

/** Whether the domain has a qemu (it uses the host's CPUs and memory). */
export const isActive = (d: DomainUsage) => ACTIVE_STATES.has(d.state);

/** `virsh domstats --raw --state --vcpu --balloon --interface` as the capacity counts it. */
export function domainUsages(domstats: string): DomainUsage[] {
  return parseDomstats(domstats).map((d) => ({
    name: d.name,
    state: stateName(d.stats),
    vcpus: numberStat(d.stats, 'vcpu.current') ?? 0,
    memoryBytes: (numberStat(d.stats, 'balloon.maximum') ?? numberStat(d.stats, 'balloon.current') ?? 0) * 1024,
    interfaces: interfaceNames(d.stats),
    migrating: pausedForMigration(d.stats),
  }));
}

/** Running and defined usage and the overcommit ratios; the incoming VMs are left out of both counts. */
export function capacityOf(domains: DomainUsage[], hostCpus: number | undefined, hostMemoryBytes: number | undefined, incoming: IncomingVm[] = []): CapacityFacts {
  const coming = new Set(incoming.map((v) => v.name));
  const counted = coming.size === 0 ? domains : domains.filter((d) => !(coming.has(d.name) && isActive(d)));
  const running = usageOf(counted.filter(isActive));
  const defined = usageOf(counted);
  const ratio = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 100) / 100 : undefined);
  return {
    hostCpus,
    hostMemoryBytes,
    running,
    defined,
    incoming,
    cpuOvercommit: { running: ratio(running.vcpus, hostCpus), defined: ratio(defined.vcpus, hostCpus) },
    memoryOvercommit: { running: ratio(running.memoryBytes, hostMemoryBytes), defined: ratio(defined.memoryBytes, hostMemoryBytes) },
  };
}

export async function gatherHostFacts(ctx: Context): Promise<HostFacts> {
  const local = ctx.hostAccess.kind === 'local';
  const access: HostAccessFacts =
    ctx.hostAccess.kind === 'ssh'
      ? { kind: 'ssh', target: sshTargetName(ctx.hostAccess.target) }
      : ctx.hostAccess.kind === 'none'
        ? { kind: 'none', reason: ctx.hostAccess.reason }
        : { kind: 'local' };
  const notAvailable = ctx.hostAccess.kind === 'none' ? `not available: ${ctx.hostAccess.reason}` : undefined;
  const hostTool = <T,>(read: () => Promise<T>): Promise<{ value?: T; error?: string }> =>
    notAvailable ? Promise.resolve({ error: notAvailable }) : readTool(ctx, read);
  // ctx.fs reads /proc/sys/net of the host the URI names (over ssh for qemu+ssh).
  const [libvirtPart, ipPart, iptablesPart, ipForward, brNf, tools, localVirt, meminfo, cpuCount] = await Promise.all([
    gatherLibvirt(ctx, !local),
    hostTool(() => ctx.ip.links()),
    hostTool(() => ctx.iptables.load()),
    ctx.fs.read(IP_FORWARD_PATH),
    ctx.fs.read(BR_NF_CALL_IPTABLES_PATH),
    Promise.all((local ? TOOLS : REMOTE_TOOLS).map(async (name) => ({ name, path: await findOnPath(ctx.fs, name, ctx.io.env.PATH) }))),
    local ? readVirtualizationInputs(ctx.fs).then(assessVirtualization) : undefined,
    local ? ctx.fs.read('/proc/meminfo') : undefined,
    local ? ctx.fs.read('/proc/cpuinfo').then((c) => (c ? (c.match(/^processor\s*:/gm) ?? []).length : undefined)) : undefined,
  ]);
  const virt = localVirt ?? assessFromLibvirt(libvirtPart.caps, libvirtPart.libvirt.domainTypes, libvirtPart.hostModelFeatures);

  const { libvirt, domains, networks, pools, nodeCpus, nodeMemory } = libvirtPart;
  const vmByInterface = new Map(domains.flatMap((d) => d.interfaces.map((i) => [i, d.name] as const)));
  const localMem = /^MemTotal:\s*(\d+) kB/m.exec(meminfo ?? '')?.[1];
  const hostCpus = nodeCpus ?? cpuCount;
  const hostMemoryBytes = nodeMemory ?? (localMem ? Number(localMem) * 1024 : undefined);

  return {
    uri: ctx.uri,
    access,
    virtualization: virt,
    libvirt,
    capacity: capacityOf(domains, hostCpus, hostMemoryBytes),
    bridges:
      ipPart.value
        ? bridgesOf(ipPart.value).map((b) => ({ ...b, ports: b.ports.map((p) => ({ name: p, vm: vmByInterface.get(p) })) }))
        : [],
    bridgesError: ipPart.error,
    nat:
      iptablesPart.value
        ? {
            ipForward: flag(ipForward),
            forwardPolicy: chainPolicy(iptablesPart.value, 'filter', 'FORWARD'),
            bridgeNfCallIptables: flag(brNf),
            rules: natRules(iptablesPart.value),
          }
        : { ipForward: flag(ipForward), bridgeNfCallIptables: flag(brNf), rules: [], error: iptablesPart.error },
    networks,
    pools,
    tools,
    domains,
  };
}

function flag(text: string | undefined): boolean | undefined {
  return text === undefined ? undefined : text.trim() === '1';
}

/** Runs one read of a tool client; the tool's failure becomes a note in the report instead of an error. */
async function readTool<T>(ctx: Context, read: () => Promise<T>): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await read() };
  } catch (e) {
    if (!(e instanceof ToolError)) return { error: reportable(e).message };
    // ssh prints banners first; the last line says what failed.
    const where = ctx.hostAccess.kind === 'ssh' ? ` on ${sshTargetName(ctx.hostAccess.target)} over ssh` : '';
    const last = e.result.stderr.trim().split('\n').pop()?.trim() ?? '';
    return { error: `${formatCommand(e.command)}${where} failed (exit ${e.result.exitCode}): ${last}` };
  }
}

/**
 * A failure the report states instead of failing: the tool is missing, the
 * daemon or the host does not answer, or it took too long (all classified as
 * refusals or timeouts). Anything else is a bug in kvmctl and is thrown on,
 * so it never reads as "libvirt unreachable".
 */
export function reportable(e: unknown): RefusedError | TimeoutError {
  if (e instanceof RefusedError || e instanceof TimeoutError) return e;
  throw e;
}

function usageOf(domains: DomainUsage[]): Usage {
  return {
    vms: domains.length,
    vcpus: domains.reduce((a, d) => a + d.vcpus, 0),
    memoryBytes: domains.reduce((a, d) => a + d.memoryBytes, 0),
  };
}

interface LibvirtPart {
  libvirt: LibvirtFacts;
  caps?: Capabilities;
  hostModelFeatures: string[];
  domains: DomainUsage[];
  networks: NetworkFacts[];
  pools: string[];
  nodeCpus?: number;
  nodeMemory?: number;
}

/** remote: also asks for the kvm domain capabilities, which give the virtualization verdict of that host. */
async function gatherLibvirt(ctx: Context, remote: boolean): Promise<LibvirtPart> {
  return ctx.virsh.session((session) => gatherInSession(ctx, session, remote));
}

/** The two rounds: the host's own facts, then the definitions of the networks the first round listed. */
async function gatherInSession(ctx: Context, session: VirshSession, remote: boolean): Promise<LibvirtPart> {
  const unreachable = (error: string): LibvirtPart => ({
    libvirt: { uri: ctx.uri, reachable: false, error, domainTypes: [] },
    hostModelFeatures: [],
    domains: [],
    networks: [],
    pools: [],
  });
  let first;
  try {
    first = await session.round({
      version: hostCalls.version(),
      caps: domainCalls.capabilities(),
      node: hostCalls.nodeinfo(),
      stats: hostCalls.usage(),
      netList: networkCalls.list(),
      pools: poolCalls.list(),
      kvmDomcaps: remote ? [domainCalls.domcapabilities('kvm')] : [],
    });
  } catch (e) {
    return unreachable(reportable(e).message);
  }
  const { version: versionOut, caps: capsOut, node: nodeOut, stats: statsOut, netList: netListOut, pools: poolOut } = first.out;
  const kvmDomcapsOut = first.out.kvmDomcaps[0] ?? '';
  if (versionOut.trim() === '') return unreachable(first.stderr.trim() || 'virsh printed nothing');

  const versions = parseVersion(versionOut);
  const caps = capsOut.trim() ? await parseCapabilities(capsOut) : undefined;
  const node = parseNodeinfo(nodeOut);
  const domains = domainUsages(statsOut);
  const netList = parseNetList(netListOut);

  const defs = new Map<string, NetworkDefinition>();
  if (netList.length > 0) {
    const { xml } = (await session.round({ xml: netList.map((n) => networkCalls.dumpxml(n.name)) })).out;
    await Promise.all(
      netList.map(async (n, i) => {
        const text = xml[i] ?? '';
        if (text.trim()) defs.set(n.name, await parseNetworkXml(text));
      }),
    );
  }
  const networks = netList.map((n) => {
    const def = defs.get(n.name);
    const ipv4 = def?.ips.find((ip) => ip.family === 'ipv4');
    const range = ipv4?.dhcpRanges[0];
    return {
      ...n,
      bridge: def?.bridge,
      mode: def?.forwardMode ?? 'unknown',
      subnet: ipv4 ? subnetOf(ipv4) : undefined,
      dhcpRange: range ? `${range.start}-${range.end}` : undefined,
    };
  });

  return {
    libvirt: {
      uri: ctx.uri,
      reachable: true,
      libraryVersion: versions.library,
      daemonVersion: versions.daemon,
      hypervisor: versions.hypervisorName ? `${versions.hypervisorName} ${versions.hypervisor ?? ''}`.trim() : versions.hypervisor,
      domainTypes: caps ? offeredDomainTypes(caps) : [],
    },
    caps,
    hostModelFeatures: remote ? await parseHostModelFeatures(kvmDomcapsOut) : [],
    domains,
    networks,
    pools: poolOut.split('\n').map((l) => l.trim()).filter(Boolean),
    nodeCpus: node.cpus,
    nodeMemory: node.memoryBytes,
  };
}
