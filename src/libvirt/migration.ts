/**
 * The virsh calls that move a domain to another host (`virsh migrate`, its job
 * info, abort, CPU comparison) as data for the virsh client, the parser of
 * `domjobinfo --rawstats`, the keyed batches the pre-check reads, and the XML
 * rewrite that moves copied disks into a pool of the target. Every virsh call
 * of `vm migrate` is built here and runs through one of MigrationClient's two clients.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult } from '../exec/command.js';
import { domainCalls, parseDomstate, stateKey } from './domain-commands.js';
import { volumeCalls, type CreateVolumeArgs } from './storage.js';
import { libvirtMessage } from './virsh.js';
import { read, write, type Virsh, type VirshCall } from './virsh-client.js';
import { parseVolumeXml, type VolumeDefinition } from './volume-xml.js';
import { attr, child, decodeXml, encodeXml, type XmlNode } from './xml-codec.js';

export type StorageMode = 'shared' | 'copy' | 'copy-inc';

export interface MigrateArgs {
  name: string;
  /** The target's URI as this machine (the virsh client) reaches it: a managed, client-driven migration. */
  targetUri: string;
  live: boolean;
  keepSource: boolean;
  /** copy / copy-inc: the disks (target devs) whose contents go over NBD. */
  copy?: { mode: 'copy' | 'copy-inc'; disks: string[] };
  /**
   * kvmctl saw every shared disk on the target at the same path itself: libvirt 9
   * refuses any local filesystem as "unsafe" (qemuMigrationSrcIsSafe), however both hosts reach it.
   */
  unsafe: boolean;
  /** Where the target listens for the migration data (the inventory's migrationAddress). */
  migrationAddress?: string;
  bandwidthMiB?: number;
  /** Files with the domain XML for the target (copied disks moved into a target pool). */
  xmlFile?: string;
  persistentXmlFile?: string;
}

/** tcp://ADDR for QEMU's migration stream; an IPv6 address goes in brackets. */
export function migrateUriFor(address: string): string {
  return `tcp://${address.includes(':') ? `[${address}]` : address}`;
}

const vm = (name: string) => ({ kind: 'vm' as const, name });

/** The calls of one migration; the client of the side named in each comment runs them. */
export const migrationCalls = {
  /**
   * The migration itself, on the source's client. Without --p2p virsh drives it and
   * connects to the target with desturi as this machine sees it; --migrateuri and
   * --listen-address send QEMU's data to the target's migration address.
   */
  migrate(a: MigrateArgs): VirshCall {
    return write(
      [
        'migrate',
        a.live ? '--live' : '--offline',
        '--persistent',
        ...(a.keepSource ? [] : ['--undefinesource']),
        ...(a.copy ? [a.copy.mode === 'copy' ? '--copy-storage-all' : '--copy-storage-inc', '--migrate-disks', a.copy.disks.join(',')] : []),
        ...(a.unsafe ? ['--unsafe'] : []),
        '--domain',
        a.name,
        '--desturi',
        a.targetUri,
        ...(a.migrationAddress !== undefined ? ['--migrateuri', migrateUriFor(a.migrationAddress), '--listen-address', a.migrationAddress] : []),
        ...(a.bandwidthMiB !== undefined ? ['--bandwidth', String(a.bandwidthMiB)] : []),
        ...(a.xmlFile !== undefined ? ['--xml', a.xmlFile] : []),
        ...(a.persistentXmlFile !== undefined ? ['--persistent-xml', a.persistentXmlFile] : []),
      ],
      vm(a.name),
    );
  },
  /** Statistics of the running job; only the source has them ("available only on the source host"). */
  jobInfo: (name: string) => read(['domjobinfo', '--domain', name, '--rawstats'], vm(name)),
  jobAbort: (name: string) => write(['domjobabort', '--domain', name], vm(name)),
  /**
   * Whether the target's hypervisor can give the guest its CPU: libvirt's own check
   * of the domain XML's <cpu>; --error makes "incompatible" a failure that names the features.
   */
  cpuCompare: (domainXml: string, virtType: string, arch: string | undefined, machine: string | undefined): VirshCall => ({
    ...read(['hypervisor-cpu-compare', '--file', '/dev/stdin', '--error', '--virttype', virtType, ...(arch ? ['--arch', arch] : []), ...(machine ? ['--machine', machine] : [])]),
    input: domainXml,
  }),
  /**
   * Read again after Ctrl-C or a failed job, to say where the VM is: marked as
   * changing state so that an interrupted run still performs it (a cancelled
   * run cancels reads only); --dry-run never gets this far.
   */
  stateAfter: (name: string) => write(['domstate', '--domain', name, '--reason'], vm(name)),
};

/** What the pre-check reads from a host, by key: one virsh process per host. */
export const sourceReads = (name: string) => ({
  state: read(['domstate', '--domain', name, '--reason']),
  xml: read(['dumpxml', '--domain', name]),
  inactiveXml: read(['dumpxml', '--domain', name, '--inactive']),
  migratableXml: read(['dumpxml', '--domain', name, '--migratable']),
  migratableInactiveXml: read(['dumpxml', '--domain', name, '--migratable', '--inactive']),
  capabilities: read(['capabilities']),
});

export const targetReads = (name: string, uuid: string | undefined) => ({
  capabilities: read(['capabilities']),
  byName: read(['dominfo', '--domain', name]),
  // libvirt gives every domain a UUID; without one there is nothing to look up (virsh's echo prints an empty line).
  byUuid: read(uuid !== undefined ? ['domname', '--domain', uuid] : ['echo']),
  activeNetworks: read(['net-list', '--name']),
  allNetworks: read(['net-list', '--all', '--name']),
  memory: read(['nodememstats']),
});

/** What placement (vm create -H auto) reads from each candidate host, in one virsh process. */
export const placementReads = () => ({
  nodeinfo: read(['nodeinfo']),
  memory: read(['nodememstats']),
  // --nowait: a VM busy with a job (a migration) must not hold the answer back.
  vcpus: read(['domstats', '--raw', '--vcpu', '--list-active', '--nowait']),
  networks: read(['net-list', '--name']),
  pools: read(['pool-list', '--name']),
});

/** A volume looked up by its path, in whatever pool of that host holds it. */
export const volumeByPath = (path: string) => volumeCalls.dumpxmlByPath(path);

export type Side = 'source' | 'target';

/**
 * The virsh calls of one migration, on the source's and the target's clients
 * (one per connection): `vm migrate` talks to both hosts only through this.
 */
export class MigrationClient {
  constructor(
    readonly source: Virsh,
    readonly target: Virsh,
  ) {}

  get sourceUri(): string {
    return this.source.uri;
  }

  get targetUri(): string {
    return this.target.uri;
  }

  private client(side: Side): Virsh {
    return side === 'source' ? this.source : this.target;
  }

  readSource(name: string) {
    return this.source.batchWithStderr(sourceReads(name));
  }

  readTarget(name: string, uuid: string | undefined) {
    return this.target.batchWithStderr(targetReads(name, uuid));
  }

  /** vol-dumpxml of each path on one host, in one virsh process; undefined where no pool holds the path. */
  async volumes(side: Side, paths: string[]): Promise<Map<string, VolumeDefinition | undefined>> {
    const unique = [...new Set(paths)];
    const map = new Map<string, VolumeDefinition | undefined>();
    if (unique.length === 0) return map;
    const { xml } = await this.client(side).batch({ xml: unique.map(volumeByPath) });
    await Promise.all(unique.map(async (p, i) => map.set(p, xml[i]?.trim() ? await parseVolumeXml(xml[i] ?? '') : undefined)));
    return map;
  }

  /** libvirt's reason why the target cannot give the guest its CPU, or undefined when it can. */
  async cpuError(domainXml: string, virtType: string, arch: string | undefined, machine: string | undefined): Promise<string | undefined> {
    const r = await this.target.attempt(migrationCalls.cpuCompare(domainXml, virtType, arch, machine));
    return r.exitCode === 0 ? undefined : libvirtMessage(r.stderr).replace(/^the CPU is incompatible with host CPU: /, '');
  }

  /** Runs the migration to its end (success or not); a cancelled kvmctl does not stop it: abort() does. */
  migrate(args: MigrateArgs): Promise<CommandResult> {
    return this.source.attempt(migrationCalls.migrate(args));
  }

  /** The running job's statistics, or undefined when the source cannot say (between two jobs, or interrupted). */
  async jobInfo(name: string): Promise<MigrationProgress | undefined> {
    const r = await this.source.attempt(migrationCalls.jobInfo(name)).catch(() => undefined);
    return r && r.exitCode === 0 ? parseJobInfo(r.stdout) : undefined;
  }

  /** True when the source accepted the abort (it refuses while no job runs yet). */
  async abort(name: string): Promise<boolean> {
    return (await this.source.attempt(migrationCalls.jobAbort(name))).exitCode === 0;
  }

  /** Pauses the guest on the source (--on-timeout suspend); whether it took shows in the states read after the job. */
  async suspend(name: string): Promise<void> {
    await this.source.attempt(domainCalls.suspend(name));
  }

  /** The domain's state word on one host after the job, or undefined when that host has no such domain. */
  async stateOf(side: Side, name: string): Promise<string | undefined> {
    const r = await this.client(side).attempt(migrationCalls.stateAfter(name));
    return r.exitCode === 0 ? stateKey(parseDomstate(r.stdout).state) : undefined;
  }

  /** A volume on the target for copy-inc (libvirt creates none for it). */
  async createTargetVolume(a: CreateVolumeArgs): Promise<void> {
    await this.target.run(volumeCalls.create(a));
  }

  /** Removes a target volume this run made; an error message unless it is gone. */
  async deleteTargetVolume(pool: string, name: string): Promise<string | undefined> {
    const r = await this.target.attempt(volumeCalls.delete(pool, name));
    return r.exitCode === 0 || /not found|no storage vol/i.test(r.stderr) ? undefined : libvirtMessage(r.stderr);
  }
}

// ---- job info ------------------------------------------------------------------

/** virDomainJobType as `domjobinfo --rawstats` prints it ("Job type: 2"). */
const JOB_TYPES: Record<string, string> = { '0': 'none', '1': 'bounded', '2': 'unbounded', '3': 'completed', '4': 'failed', '5': 'cancelled' };

export interface MigrationProgress {
  /** none (no job), unbounded (running), completed, failed, cancelled. */
  jobType: string;
  timeElapsedMs?: number;
  dataTotalBytes?: number;
  dataProcessedBytes?: number;
  dataRemainingBytes?: number;
  memoryTotalBytes?: number;
  memoryProcessedBytes?: number;
  memoryRemainingBytes?: number;
  memoryBytesPerSecond?: number;
  diskTotalBytes?: number;
  diskProcessedBytes?: number;
  diskRemainingBytes?: number;
  expectedDowntimeMs?: number;
  iteration?: number;
}

const RAW_FIELDS: Array<[string, keyof MigrationProgress]> = [
  ['time_elapsed', 'timeElapsedMs'],
  ['data_total', 'dataTotalBytes'],
  ['data_processed', 'dataProcessedBytes'],
  ['data_remaining', 'dataRemainingBytes'],
  ['memory_total', 'memoryTotalBytes'],
  ['memory_processed', 'memoryProcessedBytes'],
  ['memory_remaining', 'memoryRemainingBytes'],
  ['memory_bps', 'memoryBytesPerSecond'],
  ['disk_total', 'diskTotalBytes'],
  ['disk_processed', 'diskProcessedBytes'],
  ['disk_remaining', 'diskRemainingBytes'],
  ['downtime', 'expectedDowntimeMs'],
  ['memory_iteration', 'iteration'],
];

/** `virsh domjobinfo --rawstats`: "Job type: 2" then "key: value" lines (bytes, ms). */
export function parseJobInfo(text: string): MigrationProgress {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_ ]+?):\s*(\S+)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined) values.set(m[1].toLowerCase(), m[2]);
  }
  const progress: MigrationProgress = { jobType: JOB_TYPES[values.get('job type') ?? '0'] ?? 'none' };
  for (const [raw, key] of RAW_FIELDS) {
    const v = values.get(raw);
    if (v !== undefined && /^\d+$/.test(v)) (progress as unknown as Record<string, number>)[key] = Number(v);
  }
  return progress;
}

/** The <host><uuid> of `virsh capabilities`: libvirt's host identity, which migration compares. */
export function hostUuidOf(capabilitiesXml: string): string | undefined {
  return /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(capabilitiesXml)?.[1];
}

// ---- the domain XML for the target ---------------------------------------------------

/**
 * The domain XML with the sources of copied disks moved to their new paths on the
 * target. Without a backing chain (copy: libvirt writes a flat image) the old
 * <backingStore> goes; with copy-inc the chain below stays where it is.
 */
export async function moveDiskSources(xml: string, moves: Map<string, string>, keepBacking: boolean): Promise<string> {
  const root = await decodeXml(xml);
  const visit = (node: XmlNode, parent: string | undefined): XmlNode => {
    if (parent === 'devices' && node.tag === 'disk') {
      const file = attr(child(node, 'source'), 'file');
      const next = file !== undefined ? moves.get(file) : undefined;
      if (next !== undefined) {
        return {
          ...node,
          children: node.children
            .filter((c) => keepBacking || c.tag !== 'backingStore')
            .map((c) => (c.tag === 'source' ? { ...c, attrs: { ...c.attrs, file: next } } : c)),
        };
      }
    }
    return { ...node, children: node.children.map((c) => visit(c, node.tag)) };
  };
  return encodeXml(visit(root, undefined));
}

/**
 * virsh reads --xml and --persistent-xml from files on this machine: they are
 * written to a private folder that is removed when fn ends.
 */
export async function withXmlFiles<T>(xmls: { live: string; persistent: string } | undefined, fn: (files?: { live: string; persistent: string }) => Promise<T>): Promise<T> {
  if (!xmls) return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'kvmctl-migrate-'));
  try {
    const files = { live: join(dir, 'domain.xml'), persistent: join(dir, 'persistent.xml') };
    await writeFile(files.live, xmls.live, { mode: 0o600 });
    await writeFile(files.persistent, xmls.persistent, { mode: 0o600 });
    return await fn(files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
