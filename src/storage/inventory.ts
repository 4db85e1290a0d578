/**
 * What storage commands read before they act: pools, volumes and VMs in a
 * constant number of processes, and lookups that fail with the right exit code.
 */
import { posix } from 'node:path';
import { diskPath } from '../libvirt/domain-xml.js';
import type { StorageConnection } from './connection.js';
import { NotFoundError, RefusedError } from '../errors.js';
import { isActive, loadDomains, type DomainRecord } from '../libvirt/domains.js';
import { diskUsesOf, loadDiskUses, type DiskUse, type ListedPaths } from '../libvirt/disk-uses.js';
import { HEADER_BYTES, sniffImage } from './image-header.js';
import {
  dependentVolumes,
  isLocalUri,
  loadPools,
  loadVolumes,
  type PoolRecord,
  type VolumeRecord,
  type VolumeUser,
} from '../libvirt/storage.js';
import type { StorageFiles } from './local-files.js';
import { readLocalVolumes } from './local-volumes.js';
import { formatVolumeRef, type VolumeRef } from './volume-ref.js';
import { kvmctlCommand } from '../exec/command.js';

export interface StorageView {
  /** The connection the view was read from: printed commands name it. */
  uri?: string;
  pools: PoolRecord[];
  volumes: VolumeRecord[];
  /**
   * Every VM; with `users`, only the VMs read with dumpxml when `chains` was
   * asked (those domstats could not answer for), else none: diskUses says who
   * uses what.
   */
  domains: DomainRecord[];
  /** The VM disks that may use the listed volumes (or files in an inactive listed pool's directory), when read with `users`. */
  diskUses?: DiskUse[];
}

export interface ReadStorageOptions {
  pools?: string[];
  domains?: boolean;
  /**
   * Only who uses the listed volumes, not every VM's definition: from one
   * domstats, and the XML of only the VMs it cannot answer for.
   * `readonly`: the users' readonly flags are wanted (JSON), which needs the
   * XML of every VM using a listed volume. `chains`: the files to read
   * headers through, so that every VM a disk header of which names a backing
   * file is read too (for backingChainUses over the view's domains).
   */
  users?: { readonly: boolean; chains?: StorageFiles };
}

/**
 * Pools (all, or the named ones), their volumes, and every VM: at most five
 * virsh batches however many objects exist (a batch longer than one program
 * argument may be runs as several virsh processes).
 */
export async function readStorage(ctx: StorageConnection, options: ReadStorageOptions = {}): Promise<StorageView> {
  // Volumes need only the pools, so their batch runs while the domains load.
  const loaded = loadPools(ctx.runner, ctx.uri, options.pools).then(async (pools) => ({ pools, volumes: await loadVolumeRecords(ctx, pools) }));
  const users = options.users;
  if (users !== undefined) {
    const listed = loaded.then(({ pools, volumes }) => listedPaths(pools, volumes));
    const files = users.chains;
    const layered = files && (async (path: string) => namesBacking(files, path, (await loaded).volumes));
    const [{ pools, volumes }, found] = await Promise.all([loaded, loadDiskUses(ctx.runner, ctx.uri, listed, { readonly: users.readonly, layered })]);
    return { uri: ctx.uri, pools, volumes, domains: found.read, diskUses: found.uses };
  }
  const [{ pools, volumes }, domains] = await Promise.all([loaded, options.domains === false ? Promise.resolve([]) : loadDomains(ctx.runner, ctx.uri)]);
  return { uri: ctx.uri, pools, volumes, domains };
}

/** The listed volumes by path; for an inactive pool (no volume list), every path in its directory. */
function listedPaths(pools: PoolRecord[], volumes: VolumeRecord[]): ListedPaths {
  const byPath = new Map<string, VolumeRecord[]>();
  for (const v of volumes) if (v.path !== undefined && v.path !== '') byPath.set(v.path, [...(byPath.get(v.path) ?? []), v]);
  const dirs = new Set(pools.filter((p) => !p.volumes && p.targetPath !== undefined).map((p) => p.targetPath!));
  return {
    has: (path) => byPath.has(path) || dirs.has(posix.dirname(path)),
    isDirectory: (path) => (byPath.get(path) ?? []).some((v) => v.type === 'dir'),
  };
}

/**
 * Whether the file's header is a qcow2 naming a backing file (what
 * backingChainUses would follow). A volume already read says so itself when
 * it is raw or a qcow2 without one; any other file's header is read.
 */
async function namesBacking(files: StorageFiles, path: string, volumes: VolumeRecord[]): Promise<boolean> {
  const vol = volumeAtPath(volumes, path);
  if (vol && vol.backingFile === undefined && (vol.format === 'raw' || vol.format === 'qcow2')) return false;
  const header = await files.header(path, HEADER_BYTES).catch(() => undefined);
  if (!header) return false;
  const facts = sniffImage(header);
  return facts.format === 'qcow2' && facts.references.some((r) => r.startsWith('backing file '));
}

const byPathOf = new WeakMap<VolumeRecord[], Map<string, VolumeRecord>>();

function volumeAtPath(volumes: VolumeRecord[], path: string): VolumeRecord | undefined {
  let map = byPathOf.get(volumes);
  if (!map) byPathOf.set(volumes, (map = new Map(volumes.map((v) => [v.path, v]))));
  return map.get(path);
}

/**
 * The volumes of the given pools: those of directory pools on this machine
 * read from their files, the rest from libvirt's XML in one batch.
 */
export async function loadVolumeRecords(ctx: StorageConnection, pools: PoolRecord[]): Promise<VolumeRecord[]> {
  const local = isLocalUri(ctx.uri) ? await readLocalVolumes(ctx.fs, pools.filter((p) => p.active && isDirectoryPool(p))) : [];
  return loadVolumes(ctx.runner, ctx.uri, pools, local);
}

export function requirePool(view: StorageView, name: string): PoolRecord {
  const pool = view.pools.find((p) => p.name === name);
  if (!pool) throw new NotFoundError(`storage pool ${JSON.stringify(name)} not found`, `list the pools with: ${kvmctlCommand(view.uri, 'pool', 'list')}`, { object: { kind: 'pool', name } });
  return pool;
}

export function requireActivePool(view: StorageView, name: string): PoolRecord {
  const pool = requirePool(view, name);
  if (!pool.active) {
    throw new RefusedError(`storage pool ${JSON.stringify(name)} is not active (${pool.state}), so its volumes cannot be used`, `start it with: ${kvmctlCommand(view.uri, 'pool', 'start', name)}`, { object: { kind: 'pool', name } });
  }
  return pool;
}

export function requireVolume(view: StorageView, ref: VolumeRef): VolumeRecord {
  const pool = requireActivePool(view, ref.pool);
  const vol = view.volumes.find((v) => v.pool === pool.name && v.name === ref.volume);
  if (!vol) throw new NotFoundError(`volume ${formatVolumeRef(ref)} not found`, `list the pool's volumes with: ${kvmctlCommand(view.uri, 'volume', 'list', '--pool', ref.pool)}`, { object: { kind: 'volume', name: formatVolumeRef(ref) } });
  return vol;
}

export function findVolume(view: StorageView, ref: VolumeRef): VolumeRecord | undefined {
  return view.volumes.find((v) => v.pool === ref.pool && v.name === ref.volume);
}

/**
 * Lookups over a view, built once: asking each of 5000 volumes for its users
 * by scanning 5000 VMs (and its overlays by scanning 5000 volumes) is 25
 * million comparisons; by key it is one each.
 */
interface ViewIndex {
  volumeAt: Map<string, VolumeRecord>;
  overlaysOf: Map<string, VolumeRecord[]>;
  /** Each VM disk by its file path and by its pool/volume source, numbered in VM then disk order. */
  disksByPath: Map<string, number[]>;
  disksByVolume: Map<string, number[]>;
  disks: DiskUse[];
}

const indexes = new WeakMap<StorageView, ViewIndex>();

function indexOf(view: StorageView): ViewIndex {
  let ix = indexes.get(view);
  if (ix) return ix;
  ix = { volumeAt: new Map(), overlaysOf: new Map(), disksByPath: new Map(), disksByVolume: new Map(), disks: [] };
  for (const v of view.volumes) {
    if (!ix.volumeAt.has(v.path)) ix.volumeAt.set(v.path, v);
    if (v.backingFile !== undefined) ix.overlaysOf.set(v.backingFile, [...(ix.overlaysOf.get(v.backingFile) ?? []), v]);
  }
  const add = (map: Map<string, number[]>, key: string, n: number) => map.set(key, [...(map.get(key) ?? []), n]);
  ix.disks = view.diskUses ?? diskUsesOf(view.domains);
  ix.disks.forEach((use, n) => {
    if (use.path !== undefined && use.path !== '') add(ix!.disksByPath, use.path, n);
    if (use.pool !== undefined && use.volume !== undefined) add(ix!.disksByVolume, `${use.pool}/${use.volume}`, n);
  });
  indexes.set(view, ix);
  return ix;
}

/** The volume that lives at this path, as "POOL/NAME", or the path itself. */
export function describePath(view: StorageView, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const vol = indexOf(view).volumeAt.get(path);
  return vol ? `${vol.pool}/${vol.name}` : path;
}

/**
 * Which VMs have the volume as a disk, by file path or by pool/volume source
 * (volumeUsers' answer, looked up by key), in VM then disk order.
 */
export function usersOf(view: StorageView, vol: Pick<VolumeRecord, 'pool' | 'name' | 'path'>): VolumeUser[] {
  const ix = indexOf(view);
  const byPath = vol.path !== undefined && vol.path !== '' ? (ix.disksByPath.get(vol.path) ?? []) : [];
  const byVolume = ix.disksByVolume.get(`${vol.pool}/${vol.name}`) ?? [];
  const found = [...new Set([...byPath, ...byVolume])].sort((a, b) => a - b);
  return found.map((n) => {
    const use = ix.disks[n]!;
    // A disk known from domstats alone has no readonly flag: only tables, which do not show it, read such views.
    return { vm: use.vm, state: use.state, active: isActive(use.state), target: use.target, readonly: use.readonly === true };
  });
}

export function dependentsOf(view: StorageView, vol: VolumeRecord): VolumeRecord[] {
  return vol.path === undefined ? dependentVolumes(view.volumes, vol) : (indexOf(view).overlaysOf.get(vol.path) ?? []);
}

export function describeUsers(users: VolumeUser[]): string {
  return users.map((u) => `${u.vm} (${u.state}, ${u.target})`).join(', ');
}

/** Pool types whose volumes are files named after the volume in the target directory. */
export function isDirectoryPool(pool: PoolRecord): boolean {
  return pool.type === 'dir' || pool.type === 'fs' || pool.type === 'netfs';
}

/**
 * Where a new volume's file will be, when kvmctl may touch it directly: a
 * directory-backed pool on this machine. undefined otherwise (libvirt does the work).
 */
export function localFileFor(ctx: StorageConnection, pool: PoolRecord, name: string): string | undefined {
  if (!isLocalUri(ctx.uri) || !isDirectoryPool(pool) || pool.targetPath === undefined) return undefined;
  return posix.join(pool.targetPath, name);
}

/**
 * A volume of a local directory pool whose file leads (through a symlink, its
 * own or a parent's) out of the pool's directory: libvirt and qemu-img would
 * resize, write or read the outside file. Refused for every such action.
 */
export async function refuseOutsidePool(ctx: StorageConnection, pool: PoolRecord, vol: Pick<VolumeRecord, 'name' | 'path'>, files: StorageFiles, action: string): Promise<void> {
  if (!isLocalUri(ctx.uri) || !isDirectoryPool(pool) || pool.targetPath === undefined || vol.path === undefined) return;
  const [file, dir] = await Promise.all([files.resolve(vol.path), files.resolve(pool.targetPath)]);
  if (file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) return;
  const ref = formatVolumeRef({ pool: pool.name, volume: vol.name });
  throw new RefusedError(
    `volume ${ref} leads to ${file}, outside pool ${pool.name}'s directory ${dir}: kvmctl does not ${action} a file outside the pool`,
    `look at ${vol.path} (a symlink?); to keep using that file, import a copy: ${kvmctlCommand(ctx.uri, 'volume', 'import', '--pool', pool.name)} FILE`,
    { object: { kind: 'volume', name: ref } },
  );
}

/**
 * The first file in a volume's backing chain that is no volume of any pool:
 * libvirt probes every file on refresh, so a raw volume whose guest wrote a
 * qcow2 header naming /etc/shadow is listed as a qcow2 overlay of it. kvmctl
 * never reads through such a reference.
 */
export function foreignBacking(view: StorageView, vol: Pick<VolumeRecord, 'backingFile'>): string | undefined {
  const seen = new Set<string>();
  let current: Pick<VolumeRecord, 'backingFile'> | undefined = vol;
  while (current?.backingFile !== undefined) {
    const path: string = current.backingFile;
    if (seen.has(path)) return path;
    seen.add(path);
    current = view.volumes.find((v) => v.path === path);
    if (!current) return path;
  }
  return undefined;
}

export function refuseForeignBacking(view: StorageView, vol: Pick<VolumeRecord, 'pool' | 'name' | 'backingFile'>, action: string): void {
  const outside = foreignBacking(view, vol);
  if (outside === undefined) return;
  const ref = formatVolumeRef({ pool: vol.pool, volume: vol.name });
  throw new RefusedError(
    `volume ${ref} has a header naming ${outside}, which is no volume of any pool: kvmctl does not ${action} through it (a raw disk whose guest wrote a qcow2 header looks like this)`,
    `if the volume is raw, its header means nothing: read it as raw with qemu-img -f raw; if it really is an overlay, import its backing file into a pool first`,
    { object: { kind: 'volume', name: ref } },
  );
}

/** A volume a new VM's disk stands on, as vol-dumpxml described it. */
export interface UsedVolume {
  ref: VolumeRef;
  path: string;
  backingFile?: string;
}

/**
 * Volumes a VM is about to stand on (a base image, an attached volume):
 * refused when the file leads out of its pool or its backing chain reaches a
 * file of no pool. Every pool's volumes are read (one batch) only when one of
 * them names a backing file.
 */
export async function refuseUnsafeVolumes(ctx: StorageConnection, vols: UsedVolume[], pools: Map<string, PoolRecord>, files: StorageFiles, action: string): Promise<void> {
  for (const v of vols) {
    const pool = pools.get(v.ref.pool);
    if (pool) await refuseOutsidePool(ctx, pool, { name: v.ref.volume, path: v.path }, files, action);
  }
  const layered = vols.filter((v) => v.backingFile !== undefined);
  if (layered.length === 0) return;
  const view = await readStorage(ctx, { domains: false });
  for (const v of layered) refuseForeignBacking(view, { pool: v.ref.pool, name: v.ref.volume, backingFile: v.backingFile }, action);
}
