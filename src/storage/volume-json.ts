/** The JSON object of a volume and of a volume's snapshot: the one mapping every volume verb prints (docs/json.md; schemas/volume-list.schema.json). */
import { posix } from 'node:path';
import type { PoolRecord, VolumeRecord, VolumeUser } from '../libvirt/storage.js';
import type { ImageSnapshot } from './qemu-img.js';
import { dependentsOf, isDirectoryPool, usersOf, type StorageView } from './inventory.js';

/** A volume: every key present, null where libvirt did not say. */
export function volumeObject(vol: Omit<VolumeRecord, 'path'> & { path?: string }, users: VolumeUser[] | null, dependents: string[]) {
  return {
    pool: vol.pool,
    name: vol.name,
    path: vol.path ?? null,
    key: vol.key ?? null,
    type: vol.type ?? null,
    format: vol.format ?? null,
    capacityBytes: vol.capacityBytes ?? null,
    allocationBytes: vol.allocationBytes ?? null,
    backingFile: vol.backingFile ?? null,
    backingFormat: vol.backingFormat ?? null,
    users: users === null ? null : users.map((u) => ({ vm: u.vm, state: u.state, active: u.active, target: u.target, readonly: u.readonly })),
    dependents,
  };
}

/**
 * A volume of a view, with the VMs that use it (null when the view was read
 * without the VMs: `users: false`) and the overlays on it.
 */
export function volumeJson(view: StorageView, vol: VolumeRecord, o: { users: boolean } = { users: true }) {
  return volumeObject(vol, o.users ? usersOf(view, vol) : null, dependentsOf(view, vol).map((d) => `${d.pool}/${d.name}`));
}

/** `{changed, ...volume}`: what a volume mutation prints for a volume of the view (one it found as asked, or changed). */
export function volumeResult(changed: boolean, view: StorageView, vol: VolumeRecord, o: { users: boolean } = { users: true }) {
  return { changed, ...volumeJson(view, vol, o) };
}

/**
 * `{changed: true, ...volume}` for a volume kvmctl just made: what it asked
 * libvirt for. Nothing uses it or stands on it yet; its path is known in a
 * pool of files (POOL_DIR/NAME), its allocation and key only to libvirt
 * (kvmctl volume info reads them).
 */
export function newVolumeResult(pool: PoolRecord, vol: Pick<VolumeRecord, 'name' | 'format' | 'capacityBytes' | 'backingFile' | 'backingFormat'> & { path?: string }) {
  const path = vol.path ?? (isDirectoryPool(pool) && pool.targetPath !== undefined ? posix.join(pool.targetPath, vol.name) : undefined);
  return { changed: true, ...volumeObject({ ...vol, pool: pool.name, path, type: isDirectoryPool(pool) ? 'file' : undefined }, [], []) };
}

/** A qemu internal snapshot of a volume (id, time and size null only for one a dry run did not take). */
export function snapshotJson(volume: string, s: Pick<ImageSnapshot, 'name'> & Partial<ImageSnapshot>) {
  return { volume, name: s.name, id: s.id ?? null, createdAt: s.date ?? null, vmStateBytes: s.vmStateBytes ?? null };
}
