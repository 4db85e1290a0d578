/**
 * The addresses of a VM's current run: what every wait for an address (vm
 * wait --for ip|ready|ssh, vm create --wait) and vm ssh accept. After a
 * destroy and a start, libvirt's dnsmasq still holds the previous run's lease
 * (until it expires, an hour by default) and the host's neighbour table its
 * ARP entry: taken as they are, a wait would print the old address while the
 * guest is still in its bootloader.
 *
 * The rule, source by source:
 * - lease: made after the run started. dnsmasq reports only a lease's expiry;
 *   expiry minus the network's lease time (its <lease expiry=>, else dnsmasq's
 *   hour) is when the lease was made or last renewed. When the run's start is
 *   not known, only a lease made or renewed while this wait watches counts.
 * - agent: always this run (the guest agent answers from inside it).
 * - arp: the neighbour table keeps no time: an entry counts once it appeared
 *   while this wait watches, or once the run is known to be ARP_SETTLE_MS old.
 *
 * The run's start: kvmctl notes the time before it starts a domain (vm start,
 * vm create) with the id libvirt gave that run (src/exec/boot-records.ts);
 * for a run with another id (started by virsh, autostart, another machine's
 * kvmctl) on a local URI, the start of its QEMU process (/proc); otherwise
 * (a remote host) the start is not known.
 */
import type { Context } from '../../context.js';
import { readBootRecord, writeBootRecord } from '../../exec/boot-records.js';
import { domainCalls, parseDomifaddr, parseDominfo } from '../../libvirt/domain-commands.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { networkCalls, parseDhcpLeases, type DhcpLease } from '../../libvirt/network-commands.js';
import { dhcpLeaseSeconds } from '../../libvirt/network-xml.js';
import type { FoundAddress } from './ip.js';
import { qemuProcessStartMs } from '../../host/qemu-process.js';
import { isLocalUri } from '../../libvirt/storage.js';

/** How old a run must be before an ARP entry that was there from the first look is taken as its own. */
export const ARP_SETTLE_MS = 120_000;

export interface RunStart {
  /** libvirt's id of the current run (undefined: not running). */
  id?: number;
  /** The run began at or after this time; undefined when kvmctl did not start it. */
  startedAtMs?: number;
}

/** A lease of one of the VM's NICs, with what is needed to tell when it was made. */
export interface LeaseSeen {
  lease: DhcpLease;
  /** The lease time of its network; null: infinite (the expiry says nothing). */
  leaseSeconds: number | null;
  /** The host-side device of the NIC (vnetN). */
  dev: string;
}

const leaseKey = (l: DhcpLease) => `${l.mac} ${l.ip} ${l.expiryTime}`;
const arpKey = (a: FoundAddress) => `${a.mac} ${a.address}`;

/** When the lease was made or last renewed (ms), or undefined for an infinite lease. */
export function leaseMadeAtMs(l: LeaseSeen): number | undefined {
  return l.leaseSeconds === null ? undefined : Date.parse(l.lease.expiryTime) - l.leaseSeconds * 1000;
}

/**
 * The leases made in this run. dnsmasq counts in whole seconds, so a lease
 * made in the second the run started counts. `before`: the leases of the
 * first look of this wait (undefined for a single look, as vm ssh makes).
 */
export function leasesOfRun(leases: LeaseSeen[], run: RunStart, before: ReadonlySet<string> | undefined): LeaseSeen[] {
  return leases.filter((l) => {
    const made = leaseMadeAtMs(l);
    if (run.startedAtMs !== undefined && made !== undefined) return made >= Math.floor(run.startedAtMs / 1000) * 1000;
    return before !== undefined && !before.has(leaseKey(l.lease));
  });
}

/** The ARP addresses taken as this run's (see the module's rule). */
export function arpOfRun(found: FoundAddress[], run: RunStart, nowMs: number, before: ReadonlySet<string> | undefined): FoundAddress[] {
  if (run.startedAtMs !== undefined && nowMs - run.startedAtMs >= ARP_SETTLE_MS) return found;
  return before === undefined ? [] : found.filter((a) => !before.has(arpKey(a)));
}

/** Reads the domain's current id and uuid, and kvmctl's record of the run it started. */
export async function currentRun(ctx: Context, name: string): Promise<RunStart & { uuid?: string }> {
  const info = parseDominfo(await ctx.virsh.run(domainCalls.dominfo(name)));
  if (info.id === undefined || info.uuid === undefined) return { id: info.id, uuid: info.uuid };
  const record = await readBootRecord(ctx.stateDir, ctx.uri, info.uuid);
  if (record?.id === info.id) return { id: info.id, uuid: info.uuid, startedAtMs: record.startedAtMs };
  // Started by someone else: on this machine, its QEMU process tells when.
  return { id: info.id, uuid: info.uuid, startedAtMs: isLocalUri(ctx.uri) ? await qemuProcessStartMs(ctx.fs, info.uuid) : undefined };
}

/** After kvmctl started the domain: records the new run's id with the time noted before the start. */
export async function noteRunStarted(ctx: Context, name: string, startedAtMs: number): Promise<void> {
  if (ctx.dryRun) return;
  const info = parseDominfo(await ctx.virsh.run(domainCalls.dominfo(name)));
  if (info.id === undefined || info.uuid === undefined) return;
  await writeBootRecord(ctx.stateDir, ctx.uri, info.uuid, { id: info.id, startedAtMs });
}

interface Nic {
  network: string;
  mac: string;
  dev: string;
}

/**
 * One wait's view of a VM's addresses: the first look reads the run, the NICs
 * on libvirt networks and their lease times; every look reads the leases (one
 * virsh process), then the agent, then ARP, and returns the first source that
 * has an address of this run.
 */
export class RunAddresses {
  private run: RunStart | undefined;
  private nics: Nic[] = [];
  private leaseSeconds = new Map<string, number | null>();
  private leasesBefore: Set<string> | undefined;
  private arpBefore: Set<string> | undefined;
  /** What the last look set aside, for the status line. */
  notTaken = '';

  constructor(
    private readonly ctx: Context,
    private readonly name: string,
    /** One look only (vm ssh): nothing can appear "during the wait"; with no known start, every address is taken. */
    private readonly single = false,
  ) {}

  private async first(): Promise<RunStart> {
    const run = await currentRun(this.ctx, this.name);
    const def = await parseDomainXml(await this.ctx.virsh.run(domainCalls.dumpxml(this.name)));
    this.nics = def.interfaces.flatMap((i) => (i.type === 'network' && i.mac ? [{ network: i.source.network, mac: i.mac.toLowerCase(), dev: i.targetDev ?? '' }] : []));
    const networks = [...new Set(this.nics.map((n) => n.network))];
    if (networks.length > 0) {
      const { xml } = await this.ctx.virsh.batch({ xml: networks.map((n) => networkCalls.dumpxml(n)) });
      for (const [i, n] of networks.entries()) this.leaseSeconds.set(n, xml[i]?.trim() ? await dhcpLeaseSeconds(xml[i]!) : null);
    }
    this.run = run;
    return run;
  }

  private async leases(): Promise<LeaseSeen[]> {
    const networks = [...new Set(this.nics.map((n) => n.network))];
    if (networks.length === 0) return [];
    const { leases } = await this.ctx.virsh.batch({ leases: networks.map((n) => networkCalls.dhcpLeases(n)) });
    return networks.flatMap((net, i) =>
      parseDhcpLeases(leases[i] ?? '').flatMap((lease) => {
        const nic = this.nics.find((n) => n.network === net && n.mac === lease.mac);
        return nic ? [{ lease, leaseSeconds: this.leaseSeconds.get(net) ?? null, dev: nic.dev }] : [];
      }),
    );
  }

  private async domifaddr(source: 'agent' | 'arp'): Promise<FoundAddress[]> {
    const r = await this.ctx.virsh.attempt(domainCalls.domifaddr(this.name, source));
    if (r.exitCode !== 0) return [];
    return parseDomifaddr(r.stdout)
      .filter((a) => !a.address.startsWith('127.') && a.address !== '::1')
      .map((a) => ({ ...a, source }));
  }

  /** The addresses of this run from the first source that has some; [] when none has one yet. */
  async look(): Promise<FoundAddress[]> {
    const firstLook = this.run === undefined;
    const run = this.run ?? (await this.first());
    // A single look of a run with no known start (a remote host, started elsewhere) cannot tell: it takes what there is.
    const unknownSingle = this.single && run.startedAtMs === undefined ? new Set<string>() : undefined;
    const leases = await this.leases();
    if (firstLook && !this.single) this.leasesBefore = new Set(leases.map((l) => leaseKey(l.lease)));
    const taken = leasesOfRun(leases, run, unknownSingle ?? this.leasesBefore);
    this.notTaken = leases.length > taken.length ? describeOld(leases.filter((l) => !taken.includes(l)), run) : '';
    if (taken.length > 0) return taken.map((l) => ({ interface: l.dev, mac: l.lease.mac, protocol: l.lease.protocol, address: l.lease.ip, prefix: l.lease.prefix, source: 'lease' as const }));
    const agent = await this.domifaddr('agent');
    if (agent.length > 0) return agent;
    const arp = await this.domifaddr('arp');
    if (firstLook && !this.single) this.arpBefore = new Set(arp.map(arpKey));
    return arpOfRun(arp, run, Date.now(), unknownSingle ?? this.arpBefore);
  }
}

/** "a lease of 192.168.122.50 made at 08:01:02, before this run started at 08:03:04, is not taken". */
function describeOld(old: LeaseSeen[], run: RunStart): string {
  const at = (ms: number | undefined) => (ms === undefined ? 'an unknown time' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));
  const ips = [...new Set(old.map((l) => l.lease.ip))].join(', ');
  return run.startedAtMs !== undefined
    ? `the lease of ${ips} made at ${at(leaseMadeAtMs(old[0]!))}, before this run started (${at(run.startedAtMs)}), is not taken`
    : `the lease of ${ips} is not taken: this run was not started by kvmctl here, so only a lease made while kvmctl waits counts`;
}

/** virsh start, with the time noted before it: a later wait takes only addresses of this run. */
export async function startNoted(ctx: Context, name: string): Promise<void> {
  const before = Date.now();
  await ctx.virsh.run(domainCalls.start(name));
  await noteRunStarted(ctx, name, before);
}
