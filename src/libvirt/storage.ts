/**
 * virsh storage-pool and storage-volume calls (poolCalls, volumeCalls), and the loaders that
 * read every pool and volume in a constant number of virsh processes. Names
 * are separate argv elements; sizes are passed in bytes.
 */
import type { Command } from '../exec/command.js';
import type { Runner } from '../exec/runner.js';
import type { VolumeFormat } from './disk-formats.js';
import type { DomainRecord } from './domains.js';
import { isActive } from './domains.js';
import { diskPath } from './domain-xml.js';
import { isDirectoryPoolType } from './pool-xml.js';
import { parsePoolXml, type PoolSource } from './pool-xml.js';
import { buildVolumeXml, parseVolumeXml } from './volume-xml.js';
import { read, Virsh, write, type VirshCall } from './virsh-client.js';
import { poolDumpxmlCall, poolInfoCall, poolNamesCall, poolsBatch, volListCall } from './list-calls.js';

export type { VolumeFormat } from './disk-formats.js';

/** Storage-pool calls for the virsh client (ctx.virsh.run(poolCalls.start(name))). */
export const poolCalls = {
  list: poolNamesCall,
  info: poolInfoCall,
  volList: volListCall,
  /**
   * virsh's own completion of `vol-info --pool P --vol` (what its bash
   * completion runs): every volume name of the pool from one listing call, a
   * line each (a space escaped with a backslash), then an empty line.
   */
  volumeNames: (pool: string) => read(['complete', '--', 'vol-info', '--pool', pool, '--vol', ''], { kind: 'pool', name: pool }),
  dumpxml: poolDumpxmlCall,
  refresh: (pool: string) => write(['pool-refresh', '--pool', pool], { kind: 'pool', name: pool }),
  /** The XML travels on stdin, never through a temporary file. */
  define: (pool: string, xml: string) => write(['pool-define', '--file', '/dev/stdin'], { kind: 'pool', name: pool }, xml),
  /** --no-overwrite: libvirt refuses to format a device that already holds data (logical, fs). */
  build: (pool: string, noOverwrite = false) => write(['pool-build', '--pool', pool, ...(noOverwrite ? ['--no-overwrite'] : [])], { kind: 'pool', name: pool }),
  start: (pool: string) => write(['pool-start', '--pool', pool], { kind: 'pool', name: pool }),
  destroy: (pool: string) => write(['pool-destroy', '--pool', pool], { kind: 'pool', name: pool }),
  /** Removes the (empty) target directory of a dir/fs/netfs pool; the pool must be inactive. */
  delete: (pool: string) => write(['pool-delete', '--pool', pool], { kind: 'pool', name: pool }),
  undefine: (pool: string) => write(['pool-undefine', '--pool', pool], { kind: 'pool', name: pool }),
  autostart: (pool: string, enable: boolean) => write(['pool-autostart', '--pool', pool, ...(enable ? [] : ['--disable'])], { kind: 'pool', name: pool }),
};

export interface CreateVolumeArgs {
  pool: string;
  name: string;
  capacityBytes: number;
  format: VolumeFormat;
  /** Thin overlay on the image at this path. */
  backingPath?: string;
  backingFormat?: VolumeFormat;
  /** Initial allocation in bytes; libvirt fully allocates raw volumes when this is absent. */
  allocationBytes?: number;
}

/** A full copy of a volume into the same pool: libvirt copies an overlay's whole chain into it. */
export interface CopyVolumeArgs {
  pool: string;
  source: string;
  name: string;
  capacityBytes: number;
  format: string;
  /** See thinAllocation. */
  allocationBytes?: number;
}

/**
 * The allocation to ask for a new volume that should take no space up front: 0 in
 * pools of files (a sparse file); none elsewhere, because libvirt makes an LVM
 * volume whose allocation is below its capacity a snapshot volume with only that
 * much room, which writing the disk would overflow.
 */
export function thinAllocation(poolType: string): number | undefined {
  return isDirectoryPoolType(poolType) ? 0 : undefined;
}

const volSubject = (pool: string, vol: string) => ({ kind: 'volume' as const, name: `${pool}/${vol}` });

/** Storage-volume calls for the virsh client. */
export const volumeCalls = {
  dumpxml: (pool: string, vol: string) => read(['vol-dumpxml', '--pool', pool, '--vol', vol], volSubject(pool, vol)),
  /**
   * `vol-create` from codec-built XML rather than `vol-create-as`, which pastes
   * the name into XML unescaped (a name with '&' or '<' would break or change it).
   */
  create(a: CreateVolumeArgs): VirshCall {
    const backing = a.backingPath === undefined ? undefined : { path: a.backingPath, format: a.backingFormat ?? 'qcow2' };
    const xml = buildVolumeXml({ name: a.name, capacityBytes: a.capacityBytes, allocationBytes: a.allocationBytes, format: a.format, backing });
    return write(['vol-create', '--pool', a.pool, '--file', '/dev/stdin'], volSubject(a.pool, a.name), xml);
  },
  delete: (pool: string, vol: string) => write(['vol-delete', '--pool', pool, '--vol', vol], volSubject(pool, vol)),
  /** Streams a local file into the volume through libvirt (works against a remote host). */
  upload: (pool: string, vol: string, file: string) => write(['vol-upload', '--pool', pool, '--vol', vol, '--file', file, '--sparse'], volSubject(pool, vol)),
  /** Streams the volume into a local file through libvirt (works against a remote host); the file is private to kvmctl. */
  download: (pool: string, vol: string, file: string) => read(['vol-download', '--pool', pool, '--vol', vol, '--file', file], volSubject(pool, vol)),
  /**
   * A full copy made by libvirt (`vol-create-from`, not `vol-clone`, which pastes
   * the new name into XML unescaped); libvirt removes the new volume itself when
   * the copy fails.
   */
  copy: (a: CopyVolumeArgs) =>
    volumeCalls.createFrom(a.pool, a.name, buildVolumeXml({ name: a.name, capacityBytes: a.capacityBytes, allocationBytes: a.allocationBytes, format: a.format }), a.pool, a.source),
  /** A copy in another format (libvirt runs qemu-img convert on the host that owns the pool); the subject is the new volume. */
  createFrom: (pool: string, name: string, xml: string, inputPool: string, vol: string) =>
    write(['vol-create-from', '--pool', pool, '--file', '/dev/stdin', '--inputpool', inputPool, '--vol', vol], volSubject(pool, name), xml),
  resize: (pool: string, vol: string, capacityBytes: number, shrink: boolean) =>
    write(['vol-resize', '--pool', pool, '--vol', vol, '--capacity', `${capacityBytes}b`, ...(shrink ? ['--shrink'] : [])], volSubject(pool, vol)),
  /** Grows a disk of a running VM through QEMU, so the guest sees the new size. */
  blockResize: (domain: string, target: string, sizeBytes: number) =>
    write(['blockresize', '--domain', domain, '--path', target, '--size', `${sizeBytes}b`], { kind: 'vm', name: domain }),
  /** The pool of the volume at a path (libvirt's volume key), and its XML. */
  poolOfPath: (path: string) => read(['vol-pool', '--vol', path]),
  dumpxmlByPath: (path: string) => read(['vol-dumpxml', '--vol', path]),
};

/**
 * Whether the URI names this machine's libvirt (no host part), so that a
 * pool's files are local files kvmctl may read and qemu-img may write.
 */
export function isLocalUri(uri: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?]*)/i.exec(uri);
  return m !== null && m[1] === '';
}

// ---- loaders: every pool and volume in a constant number of processes ------

export interface PoolVolumeEntry {
  name: string;
  path: string;
}

export interface PoolRecord {
  name: string;
  uuid?: string;
  type: string;
  /** running, inactive, building, degraded, inaccessible (pool-info's words). */
  state: string;
  active: boolean;
  autostart: boolean;
  persistent: boolean;
  targetPath?: string;
  capacityBytes?: number;
  allocationBytes?: number;
  availableBytes?: number;
  source: PoolSource;
  /** The pool's volumes; undefined when the pool is inactive (libvirt lists volumes of active pools only), or read with `namesOnly`. */
  volumes?: PoolVolumeEntry[];
  /**
   * With loadPools' `namesOnly`, instead of `volumes`: the names of an active
   * pool's volumes as virsh's completion prints them (a space escaped with a
   * backslash), enough to count them.
   */
  volumeNames?: string[];
}

export interface LoadPoolsOptions {
  /**
   * Only the names of the volumes (to count them), not their paths: vol-list
   * asks libvirtd for each volume's path, one round trip per volume (1.4 s for
   * 5000), where the completion of a volume name lists them all in one.
   */
  namesOnly?: boolean;
}

/**
 * Whether virsh's completion can be asked for a pool's volume names: it parses the line it is given
 * again, so a pool name with a quote, a backslash, a space or a control character names another
 * pool there (or none); such pools are counted from vol-list.
 */
export function completable(pool: string): boolean {
  return /^[A-Za-z0-9._+:@-]+$/.test(pool);
}

export function parseCompletion(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/**
 * All pools (or only those named) with state, autostart, target path, sizes
 * and volume names: one virsh process to list them, one for the details of
 * all of them. A named pool that does not exist is simply absent.
 */
export async function loadPools(runner: Runner, uri: string, names?: string[], options: LoadPoolsOptions = {}): Promise<PoolRecord[]> {
  const virsh = new Virsh(runner, uri);
  let poolNames = names;
  if (poolNames === undefined) {
    const first = await virsh.batchWithStderr({ list: poolCalls.list() });
    if (first.stderr.trim() && !first.out.list.trim()) throw new Error(`could not list storage pools: ${first.stderr.trim()}`);
    poolNames = parseNameList(first.out.list);
  }
  if (poolNames.length === 0) return [];
  const volumesCall = options.namesOnly ? (pool: string) => (completable(pool) ? poolCalls.volumeNames(pool) : poolCalls.volList(pool)) : poolCalls.volList;
  const { out, stderr } = await virsh.batchWithStderr(poolsBatch(poolNames, volumesCall));
  const pools = out.pools;
  // A virsh without the complete command (before libvirt 4.1) says so: those names come from vol-list after all.
  const uncounted = options.namesOnly && /unknown command: 'complete'/.test(stderr) ? poolNames.filter((_, i) => !(pools[i]?.vols ?? '').trim()) : [];
  const listed = new Map<string, string[]>();
  if (uncounted.length > 0) {
    const { lists } = await virsh.batch({ lists: uncounted.map((p) => poolCalls.volList(p)) });
    uncounted.forEach((p, i) => listed.set(p, parseVolList(lists[i] ?? '').map((v) => v.name)));
  }
  const records = await Promise.all(
    poolNames.map(async (name, i): Promise<PoolRecord | undefined> => {
      const { info: infoOut = '', xml = '', vols: volOut = '' } = pools[i] ?? {};
      // A pool undefined meanwhile (or never there) has empty sections.
      if (!infoOut.trim() || !xml.trim()) return undefined;
      const info = parsePoolInfo(infoOut);
      const def = await parsePoolXml(xml);
      const active = info.state !== 'inactive';
      return {
        name: def.name || name,
        uuid: def.uuid,
        type: def.type,
        state: info.state,
        active,
        autostart: info.autostart,
        persistent: info.persistent,
        targetPath: def.targetPath,
        capacityBytes: active ? def.capacityBytes : undefined,
        allocationBytes: active ? def.allocationBytes : undefined,
        availableBytes: active ? def.availableBytes : undefined,
        source: def.source,
        volumes: active && !options.namesOnly ? parseVolList(volOut) : undefined,
        ...(active && options.namesOnly ? { volumeNames: listed.get(name) ?? (completable(name) ? parseCompletion(volOut) : parseVolList(volOut).map((v) => v.name)) } : {}),
      };
    }),
  );
  return records.filter((r): r is PoolRecord => r !== undefined);
}

export interface VolumeRecord {
  pool: string;
  name: string;
  path: string;
  key?: string;
  type?: string;
  format?: string;
  capacityBytes?: number;
  allocationBytes?: number;
  /** The file this volume is a thin overlay on, as libvirt reports it. */
  backingFile?: string;
  backingFormat?: string;
}

/**
 * All volumes of the given (active) pools, with their XML details, in one
 * virsh process however many there are; volumes already known (read from
 * their files) are not asked for.
 */
export async function loadVolumes(runner: Runner, uri: string, pools: PoolRecord[], known: VolumeRecord[] = []): Promise<VolumeRecord[]> {
  const key = (pool: string, name: string) => `${pool}/${name}`;
  const knownByKey = new Map(known.map((v) => [key(v.pool, v.name), v]));
  const entries = pools.flatMap((p) => (p.volumes ?? []).map((v) => ({ pool: p.name, ...v })));
  const asked = entries.filter((e) => !knownByKey.has(key(e.pool, e.name)));
  const { xml: xmls } = await new Virsh(runner, uri).batch({ xml: asked.map((e) => volumeCalls.dumpxml(e.pool, e.name)) }, { oneProcess: true });
  const xmlByKey = new Map(asked.map((e, i) => [key(e.pool, e.name), xmls[i] ?? '']));
  return Promise.all(
    entries.map(async (e): Promise<VolumeRecord> => {
      const local = knownByKey.get(key(e.pool, e.name));
      if (local) return local;
      const xml = xmlByKey.get(key(e.pool, e.name)) ?? '';
      // Deleted meanwhile, or a name virsh printed escaped: keep what vol-list said.
      if (!xml.trim()) return { pool: e.pool, name: e.name, path: e.path };
      const def = await parseVolumeXml(xml);
      return {
        pool: e.pool,
        name: def.name || e.name,
        path: def.path ?? e.path,
        key: def.key,
        type: def.type,
        format: def.format,
        capacityBytes: def.capacityBytes,
        allocationBytes: def.allocationBytes,
        backingFile: def.backingStore?.path,
        backingFormat: def.backingStore?.format,
      };
    }),
  );
}

export interface VolumeUser {
  vm: string;
  /** The VM's state: running, shutoff, paused… */
  state: string;
  /** Whether a QEMU process holds the disk open now. */
  active: boolean;
  /** The guest device (vda, sdb…). */
  target: string;
  readonly: boolean;
}

/** Which VMs (running or only defined) have the volume as a disk, by file path or by pool/volume source. */
export function volumeUsers(domains: DomainRecord[], volume: Pick<VolumeRecord, 'pool' | 'name' | 'path'>): VolumeUser[] {
  const users: VolumeUser[] = [];
  for (const d of domains) {
    for (const disk of d.definition.disks) {
      const byPath = volume.path !== undefined && volume.path !== '' && diskPath(disk) === volume.path;
      const byVolume = disk.source?.pool === volume.pool && disk.source?.volume === volume.name;
      if (byPath || byVolume) {
        users.push({ vm: d.name, state: d.state, active: isActive(d.state), target: disk.target.dev, readonly: disk.readonly === true });
      }
    }
  }
  return users;
}

/** Volumes that are thin overlays on this one (their backing file is its path). */
export function dependentVolumes(volumes: VolumeRecord[], volume: Pick<VolumeRecord, 'path'>): VolumeRecord[] {
  return volumes.filter((v) => v.backingFile !== undefined && v.backingFile === volume.path);
}

// ---- parsers of virsh's text output ----------------------------------------

/** `pool-list --name` pads names with spaces; one name a line. */
export function parseNameList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export interface PoolInfo {
  state: string;
  persistent: boolean;
  autostart: boolean;
}

export function parsePoolInfo(text: string): PoolInfo {
  const get = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  return { state: get('State') ?? 'unknown', persistent: get('Persistent') === 'yes', autostart: get('Autostart') === 'yes' };
}

/**
 * `vol-list --pool P`: a Name and a Path column. Names may hold spaces, so the
 * Path column starts where the header's "Path" starts (virsh pads every cell
 * to the column's width).
 */
export function parseVolList(text: string): PoolVolumeEntry[] {
  const lines = text.split('\n');
  const headerIndex = lines.findIndex((l) => /^\s*Name\s+Path\s*$/.test(l));
  if (headerIndex < 0) return [];
  const pathCol = (lines[headerIndex] ?? '').indexOf('Path');
  const out: PoolVolumeEntry[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    if (line.trim() === '' || /^-+$/.test(line.trim())) continue;
    if (line.length > pathCol && line[pathCol - 1] === ' ') {
      out.push({ name: line.slice(0, pathCol).trim(), path: line.slice(pathCol).trimEnd() });
    } else {
      // A cell wider than the header's column (should not happen): split at the last run of spaces before a '/'.
      const m = /^\s*(.+?)\s{2,}(\/.*)$/.exec(line);
      if (m) out.push({ name: m[1] ?? '', path: m[2] ?? '' });
    }
  }
  return out;
}
