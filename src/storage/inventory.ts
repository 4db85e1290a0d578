/**
 * What storage commands read before they act: pools, volumes and VMs in a
 * constant number of processes, and lookups that fail with the right exit code.
 */
import { posix } from 'node:path';
import type { Context } from '../context.js';
import { NotFoundError, RefusedError } from '../errors.js';
import { loadDomains, type DomainRecord } from '../libvirt/domains.js';
import {
  dependentVolumes,
  isLocalUri,
  loadPools,
  loadVolumes,
  volumeUsers,
  type PoolRecord,
  type VolumeRecord,
  type VolumeUser,
} from '../libvirt/storage.js';
import { formatVolumeRef, type VolumeRef } from './volume-ref.js';

export interface StorageView {
  pools: PoolRecord[];
  volumes: VolumeRecord[];
  domains: DomainRecord[];
}

/**
 * Pools (all, or the named ones), their volumes, and every VM: at most five
 * virsh processes however many objects exist.
 */
export async function readStorage(ctx: Context, options: { pools?: string[]; domains?: boolean } = {}): Promise<StorageView> {
  // Volumes need only the pools, so their batch runs while the domains load.
  const [{ pools, volumes }, domains] = await Promise.all([
    loadPools(ctx.runner, ctx.uri, options.pools).then(async (pools) => ({ pools, volumes: await loadVolumes(ctx.runner, ctx.uri, pools) })),
    options.domains === false ? Promise.resolve([]) : loadDomains(ctx.runner, ctx.uri),
  ]);
  return { pools, volumes, domains };
}

export function requirePool(view: StorageView, name: string): PoolRecord {
  const pool = view.pools.find((p) => p.name === name);
  if (!pool) throw new NotFoundError(`storage pool ${JSON.stringify(name)} not found`, 'list the pools with: kvmctl pool list', { object: { kind: 'pool', name } });
  return pool;
}

export function requireActivePool(view: StorageView, name: string): PoolRecord {
  const pool = requirePool(view, name);
  if (!pool.active) {
    throw new RefusedError(`storage pool ${JSON.stringify(name)} is not active (${pool.state}), so its volumes cannot be used`, `start it with: kvmctl pool start ${name}`, { object: { kind: 'pool', name } });
  }
  return pool;
}

export function requireVolume(view: StorageView, ref: VolumeRef): VolumeRecord {
  const pool = requireActivePool(view, ref.pool);
  const vol = view.volumes.find((v) => v.pool === pool.name && v.name === ref.volume);
  if (!vol) throw new NotFoundError(`volume ${formatVolumeRef(ref)} not found`, `list the pool's volumes with: kvmctl volume list --pool ${ref.pool}`, { object: { kind: 'volume', name: formatVolumeRef(ref) } });
  return vol;
}

export function findVolume(view: StorageView, ref: VolumeRef): VolumeRecord | undefined {
  return view.volumes.find((v) => v.pool === ref.pool && v.name === ref.volume);
}

/** The volume that lives at this path, as "POOL/NAME", or the path itself. */
export function describePath(view: StorageView, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const vol = view.volumes.find((v) => v.path === path);
  return vol ? `${vol.pool}/${vol.name}` : path;
}

export function usersOf(view: StorageView, vol: VolumeRecord): VolumeUser[] {
  return volumeUsers(view.domains, vol);
}

export function dependentsOf(view: StorageView, vol: VolumeRecord): VolumeRecord[] {
  return dependentVolumes(view.volumes, vol);
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
export function localFileFor(ctx: Context, pool: PoolRecord, name: string): string | undefined {
  if (!isLocalUri(ctx.uri) || !isDirectoryPool(pool) || pool.targetPath === undefined) return undefined;
  return posix.join(pool.targetPath, name);
}

/** The JSON shape of a volume everywhere: the record plus who uses it. */
export function volumeJson(view: StorageView, vol: VolumeRecord) {
  return {
    ...vol,
    users: usersOf(view, vol),
    dependents: dependentsOf(view, vol).map((d) => `${d.pool}/${d.name}`),
  };
}
