/**
 * `vm list [--state running|shutoff|paused] [--name-only]`: one virsh process
 * however many VMs exist, an interactive session of two rounds
 * (libvirt/virsh-session.ts). The first gets every VM's state, vCPUs, memory
 * and block devices (`domstats`), the autostart flags and the networks; the
 * second, written once the first is read, gets the DHCP leases of each active
 * network and the MACs of the running VMs that have NICs (only a running VM
 * holds a lease worth showing), from `domiflist`, which needs no XML parsing.
 */
import type { Context } from '../../context.js';
import { KvmctlError, UsageError } from '../../errors.js';
import { domstatsCall, numberStat, parseDomstats, pausedForMigration, stateName, type DomainStats } from '../../libvirt/domstats.js';
import { domainCalls, parseDomiflistMacs } from '../../libvirt/domain-commands.js';
import { networkCalls, parseDhcpLeases } from '../../libvirt/network-commands.js';
import { parseNetList } from '../../libvirt/network-xml.js';
import { byText, type Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { flag, value, verb, type OptionsOf } from '../../verb.js';
import { leaseAddress, type VmAddress } from './vm-object.js';
import { VM_STATE_FILTERS, vmListFirstRound, type VmStateFilter } from '../../libvirt/vm-list-round.js';

/** A row of vm list, and what -o json prints for it (schemas/vm-list.schema.json). */
export interface VmListEntry {
  name: string;
  state: string;
  vcpus: number | null;
  /** What the guest has now (the balloon), and what it may grow to. */
  memoryBytes: number | null;
  maxMemoryBytes: number | null;
  autostart: boolean;
  /** DHCP leases of its NICs (running VMs only). */
  addresses: VmAddress[];
  /** Block devices libvirt reports (disks, and CD-ROMs with media). */
  diskCount: number;
  /** Their total virtual size. */
  diskBytes: number;
  /** Paused for a migration (libvirt's reason "migrating"): on the target while it comes in, on the source at the switch-over. */
  migrating: boolean;
  /** With -H: the host it is migrating to; null otherwise. */
  migratingTo: string | null;
}

export async function listVms(ctx: Context, state?: VmStateFilter): Promise<VmListEntry[]> {
  return ctx.virsh.session(async (session) => {
    const first = await session.round(vmListFirstRound(state));
    const stats = parseDomstats(first.out.stats);
    if (stats.length === 0 && first.err.stats.trim()) throw listError(first.err.stats);
    const autostart = new Set(first.out.autostart.split('\n').filter((l) => l !== ''));

    const networks = parseNetList(first.out.networks).filter((n) => n.active);
    const withNics = stats.filter((s) => stateName(s.stats) === 'running' && (numberStat(s.stats, 'net.count') ?? 0) > 0);
    const ipsByVm = new Map<string, VmAddress[]>();
    if (networks.length > 0 && withNics.length > 0) {
      // The same virsh process: these depend on what the first round printed.
      const second = await session.round({
        leases: networks.map((n) => networkCalls.dhcpLeases(n.name)),
        nics: withNics.map((s) => domainCalls.domiflist(s.name)),
      });
      const ipsByMac = new Map<string, VmAddress[]>();
      for (const out of second.out.leases) {
        for (const lease of parseDhcpLeases(out)) ipsByMac.set(lease.mac, [...(ipsByMac.get(lease.mac) ?? []), leaseAddress(lease)]);
      }
      for (const [i, s] of withNics.entries()) {
        // A VM undefined between the two rounds prints an error and no NICs: no MACs.
        const macs = parseDomiflistMacs(second.out.nics[i] ?? '');
        ipsByVm.set(s.name, macs.flatMap((mac) => ipsByMac.get(mac) ?? []));
      }
    }
    return stats.map((s) => entryOf(s, autostart.has(s.name), ipsByVm.get(s.name) ?? [])).sort((a, b) => byText(a.name, b.name));
  });
}

function listError(stderr: string): KvmctlError {
  return new KvmctlError(`could not list VMs: ${stderr.trim()}`, 'run with -v to see the virsh command');
}

function entryOf(s: DomainStats, autostart: boolean, addresses: VmAddress[]): VmListEntry {
  const count = numberStat(s.stats, 'block.count') ?? 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += numberStat(s.stats, `block.${i}.capacity`) ?? 0;
  const kib = (key: string) => {
    const v = numberStat(s.stats, key);
    return v === undefined ? null : v * 1024;
  };
  return {
    name: s.name,
    state: stateName(s.stats),
    vcpus: numberStat(s.stats, 'vcpu.current') ?? null,
    memoryBytes: kib('balloon.current'),
    maxMemoryBytes: kib('balloon.maximum'),
    autostart,
    addresses,
    diskCount: count,
    diskBytes: bytes,
    migrating: pausedForMigration(s.stats),
    migratingTo: null,
  };
}

const columns: Column<VmListEntry>[] = [
  { header: 'NAME', value: (v) => v.name },
  {
    header: 'STATE',
    value: (v) => v.state,
    color: (t, v, c) => (v.state === 'running' ? c.green(t) : v.state === 'paused' ? c.yellow(t) : v.state === 'crashed' ? c.red(t) : t),
  },
  { header: 'VCPUS', value: (v) => v.vcpus },
  { header: 'MEMORY', value: (v) => formatBytes(v.maxMemoryBytes ?? v.memoryBytes) },
  { header: 'AUTOSTART', value: (v) => v.autostart },
  { header: 'IPS', value: (v) => v.addresses.map((a) => a.address).join(', ') },
  { header: 'DISKS', value: (v) => v.diskCount },
  { header: 'DISK SIZE', value: (v) => (v.diskCount > 0 ? formatBytes(v.diskBytes) : undefined) },
];

const options = {
  state: value('--state <state>', 'only VMs in this state: running, shutoff or paused'),
  nameOnly: flag('--name-only', 'print only the names'),
};
export type ListOptions = OptionsOf<typeof options>;

const namesOnly = (ctx: Context, opts: ListOptions) => opts.nameOnly || ctx.out.nameOnly;

export async function runVmList(ctx: Context, opts: ListOptions): Promise<void> {
  const state = opts.state;
  if (state !== undefined && !(VM_STATE_FILTERS as readonly string[]).includes(state)) {
    throw new UsageError(`--state ${JSON.stringify(state)}: expected ${VM_STATE_FILTERS.join(', ')}`, 'e.g. kvmctl vm list --state running');
  }
  const filter = state as VmStateFilter | undefined;
  if (namesOnly(ctx, opts)) {
    const r = await ctx.virsh.batchWithStderr({ stats: domstatsCall(['state'], filter) });
    const stats = parseDomstats(r.out.stats);
    if (stats.length === 0 && r.stderr.trim()) throw listError(r.stderr);
    return ctx.out.names(stats.map((s) => s.name).sort(byText));
  }
  const vms = await listVms(ctx, filter);
  if (vms.length === 0 && !ctx.out.json) ctx.out.info(filter ? `no ${filter} VMs` : 'no VMs');
  ctx.out.list(columns, vms);
}

export const listCommand = verb('list', 'list VMs, sorted by name (the same order on every host and locale): state, vCPUs, memory, autostart, IPs (DHCP leases), disks', runVmList, {
  options,
  examples: ['kvmctl vm list', 'kvmctl vm list --state running --name-only', 'kvmctl vm list -o json'],
  fanOut: true,
  listColumns: (ctx, opts) => (namesOnly(ctx, opts) ? undefined : columns),
});
