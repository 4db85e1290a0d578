/**
 * `vm create -H auto` (also `--host auto`): which host of the inventory gets the
 * new VM. Every host is asked at once (one virsh process each, within
 * --host-timeout); a host is dropped when it does not answer, lacks a network
 * or pool the VM names, has less memory available than the VM's, or would pass
 * the vCPU overcommit limit; of the rest, the one with the most memory
 * available wins, ties broken by name so the choice is repeatable.
 * `-H NAME` picks that inventory host without any of this.
 */
import type { Context } from '../../context.js';
import { NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { DeadlineRunner, noAnswerWithin } from '../../exec/deadline-runner.js';
import { CommandTimeoutError } from '../../exec/runner.js';
import { mapLimit } from '../../exec/parallel.js';
import { inventoryPath, loadInventory, type InventoryHost } from '../../inventory/hosts-file.js';
import { parseNodeinfo } from '../../libvirt/capabilities.js';
import { parseNodememstats } from '../../libvirt/domain-commands.js';
import { numberStat, parseDomstats } from '../../libvirt/domstats.js';
import { placementReads } from '../../libvirt/migration.js';
import { Virsh } from '../../libvirt/virsh-client.js';
import { parseNameList } from '../../libvirt/storage.js';
import { formatBytes } from '../../units/size.js';
import { parseCreateFlags, type CreateFlags } from './create-args.js';

/** Running vCPUs per host CPU that placement does not pass (docs/hosts.md). */
export const VCPU_OVERCOMMIT_LIMIT = 4;

export interface PlacementNeeds {
  memoryBytes: number;
  vcpus: number;
  networks: string[];
  pools: string[];
}

export interface HostFacts {
  cpus?: number;
  availableMemoryBytes?: number;
  runningVcpus: number;
  activeNetworks: string[];
  activePools: string[];
}

export interface HostVerdict {
  host: string;
  uri: string;
  kept: boolean;
  /** Why it was dropped, or what it offers when kept. */
  reasons: string[];
  availableMemoryBytes?: number;
}

/** What the new VM asks of a host, from vm create's own flags. */
export function needsOf(name: string, flags: CreateFlags): PlacementNeeds {
  const req = parseCreateFlags(name, flags);
  const pools = new Set<string>();
  if (req.image) pools.add(req.image.pool ?? req.image.base.pool);
  for (const d of req.disks) {
    if (d.kind === 'new') pools.add(d.pool ?? 'default');
    if (d.kind === 'volume') pools.add(d.ref.pool);
  }
  return { memoryBytes: req.memoryBytes, vcpus: req.vcpus, networks: req.networks.flatMap((n) => (n.type === 'network' ? [n.network] : [])), pools: [...pools] };
}

export function judgeHost(host: InventoryHost, facts: HostFacts | { error: string }, needs: PlacementNeeds): HostVerdict {
  const base = { host: host.name, uri: host.uri };
  if ('error' in facts) return { ...base, kept: false, reasons: [`does not answer: ${facts.error}`] };
  const reasons: string[] = [];
  for (const n of needs.networks) if (!facts.activeNetworks.includes(n)) reasons.push(`no active network ${JSON.stringify(n)}`);
  for (const p of needs.pools) if (!facts.activePools.includes(p)) reasons.push(`no active storage pool ${JSON.stringify(p)}`);
  const mem = facts.availableMemoryBytes;
  if (mem === undefined || mem < needs.memoryBytes) reasons.push(`${formatBytes(mem ?? 0)} of memory available, the VM needs ${formatBytes(needs.memoryBytes)}`);
  if (facts.cpus !== undefined && facts.runningVcpus + needs.vcpus > facts.cpus * VCPU_OVERCOMMIT_LIMIT) {
    reasons.push(`${facts.runningVcpus} + ${needs.vcpus} vCPUs would pass ${VCPU_OVERCOMMIT_LIMIT} per CPU (${facts.cpus} CPUs)`);
  }
  if (reasons.length > 0) return { ...base, kept: false, reasons, availableMemoryBytes: mem };
  return { ...base, kept: true, reasons: [`${formatBytes(mem)} of memory available, ${facts.runningVcpus + needs.vcpus} of ${(facts.cpus ?? 0) * VCPU_OVERCOMMIT_LIMIT} vCPUs`], availableMemoryBytes: mem };
}

/** The kept host with the most memory available; ties go to the first name in sort order. */
export function chooseHost(verdicts: HostVerdict[]): HostVerdict | undefined {
  return verdicts
    .filter((v) => v.kept)
    .sort((a, b) => (b.availableMemoryBytes ?? 0) - (a.availableMemoryBytes ?? 0) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))[0];
}

function factsOf(out: Record<keyof ReturnType<typeof placementReads>, string>): HostFacts {
  const running = parseDomstats(out.vcpus);
  return {
    cpus: parseNodeinfo(out.nodeinfo).cpus,
    availableMemoryBytes: parseNodememstats(out.memory).availableBytes,
    runningVcpus: running.reduce((sum, d) => sum + (numberStat(d.stats, 'vcpu.current') ?? 0), 0),
    activeNetworks: parseNameList(out.networks),
    activePools: parseNameList(out.pools),
  };
}

/**
 * The URI vm create runs against for -H: the named inventory host, or with
 * `auto` the host placement chooses (printed with its reasons under --explain).
 */
export async function placementUri(ctx: Context, selectors: string[], name: string, flags: CreateFlags & { explain?: boolean }): Promise<string> {
  if (selectors.length !== 1) throw new UsageError(`vm create goes to one host, -H was given ${selectors.length} times`, 'use -H NAME, or -H auto to let kvmctl choose');
  const selector = selectors[0] ?? '';
  const inv = await loadInventory(inventoryPath(ctx.io.env));
  if (selector !== 'auto') {
    const host = inv.hosts.find((h) => h.name === selector);
    if (!host) throw new NotFoundError(`no host ${JSON.stringify(selector)} in the inventory ${inv.path}`, `list the hosts with: ${kvmctlCommand(undefined, 'host', 'list')}; -H auto chooses one`);
    return host.uri;
  }
  const needs = needsOf(name, flags);
  if (inv.hosts.length === 0) throw new UsageError(`-H auto: the inventory ${inv.path} names no host`, 'add hosts with: kvmctl host add NAME --uri URI');
  const verdicts = await mapLimit(inv.hosts, ctx.parallel, async (h) => {
    const runner = new DeadlineRunner(ctx.runner, Date.now() + ctx.hostTimeoutMs);
    try {
      const { out, stderr } = await new Virsh(runner, h.uri).batchWithStderr(placementReads());
      if (!out.nodeinfo.trim()) return judgeHost(h, { error: stderr.trim().split('\n').pop() ?? 'no nodeinfo' }, needs);
      return judgeHost(h, factsOf(out), needs);
    } catch (e) {
      const error = e instanceof CommandTimeoutError ? noAnswerWithin(ctx.hostTimeoutMs) : e instanceof Error ? e.message : String(e);
      return judgeHost(h, { error }, needs);
    }
  });
  const chosen = chooseHost(verdicts);
  if (flags.explain) {
    for (const v of [...verdicts].sort((a, b) => (a.host < b.host ? -1 : 1))) ctx.out.info(`placement: ${v.host} ${v.kept ? 'kept' : 'dropped'}: ${v.reasons.join('; ')}`);
    if (chosen) ctx.out.info(`placement: chose ${chosen.host} (the most memory available of the hosts kept; ties go to the first name)`);
  }
  if (!chosen) {
    throw new RefusedError(
      `-H auto: no host of the inventory can take VM ${JSON.stringify(name)}: ${verdicts.map((v) => `${v.host}: ${v.reasons.join(', ')}`).join('; ')}`,
      'free memory, start the missing networks or pools, or add a host (kvmctl host add)',
      { object: { kind: 'vm', name } },
    );
  }
  return chosen.uri;
}
