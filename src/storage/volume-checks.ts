/** Checks every volume command that writes shares: nothing overwritten, free space, identical re-runs. */
import type { StorageConnection } from './connection.js';
import { ConflictError, RefusedError, UsageError } from '../errors.js';
import type { PoolRecord, VolumeRecord } from '../libvirt/storage.js';
import { formatBytes } from '../units/size.js';
import type { StorageFiles } from './local-files.js';
import { localFileFor, readStorage, refuseForeignBacking, refuseOutsidePool, requireVolume, type StorageView } from './inventory.js';
import type { VolumeRef } from './volume-ref.js';
import { TARGET_FORMATS, type TargetFormat } from '../libvirt/disk-formats.js';
import { kvmctlCommand } from '../exec/command.js';

/** --allow-overcommit's help, the same on every verb that writes a volume. */
export const OVERCOMMIT_HELP = "allow a size beyond the pool's free space (thin volumes)";

/** qemu rounds virtual sizes up to whole 512-byte sectors; asking for that size keeps re-runs comparable. */
export function roundToSector(bytes: number): number {
  return Math.ceil(bytes / 512) * 512;
}

export interface WantedVolume {
  format: string;
  capacityBytes?: number;
  /** The backing file the new volume must have (none when undefined). */
  backingFile?: string;
}

/** Differences between an existing volume and what a create asks for, as "field: have -> want". */
export function sameSpec(existing: VolumeRecord, wanted: WantedVolume): string[] {
  const diffs: string[] = [];
  if (existing.format !== wanted.format) diffs.push(`format ${existing.format ?? 'unknown'} -> ${wanted.format}`);
  if (wanted.capacityBytes !== undefined && existing.capacityBytes !== wanted.capacityBytes) {
    diffs.push(`size ${formatBytes(existing.capacityBytes) ?? 'unknown'} -> ${formatBytes(wanted.capacityBytes)}`);
  }
  if ((existing.backingFile ?? null) !== (wanted.backingFile ?? null)) diffs.push(`backing file ${existing.backingFile ?? '(none)'} -> ${wanted.backingFile ?? '(none)'}`);
  return diffs;
}

/**
 * A file libvirt does not (yet) list as a volume may sit where the new volume
 * would go; it is never overwritten (exit 4).
 */
/**
 * The volume a copy reads (volume clone, volume convert), as the storage is now: in its pool's
 * directory, backed by nothing outside the pools, of a format libvirt knows. `source` is how it was named.
 */
export async function readCopySource(ctx: StorageConnection, source: string, ref: VolumeRef, files: StorageFiles): Promise<{ view: StorageView; pool: PoolRecord; src: VolumeRecord; format: string }> {
  const view = await readStorage(ctx);
  const src = requireVolume(view, ref);
  const pool = view.pools.find((p) => p.name === ref.pool)!;
  await refuseOutsidePool(ctx, pool, src, files, 'copy');
  refuseForeignBacking(view, src, 'copy');
  if (src.format === undefined) throw new RefusedError(`the format of ${source} is unknown to libvirt`, `refresh the pool (${kvmctlCommand(ctx.uri, 'pool', 'refresh', ref.pool)}) and check ${kvmctlCommand(ctx.uri, 'volume', 'info', source)}`);
  return { view, pool, src, format: src.format };
}

/** Before a new volume NAME of up to `bytes` is written into `pool`: no file of another kind where it would go, and room for it (unless overcommit is allowed). */
export async function checkNewVolume(ctx: StorageConnection, pool: PoolRecord, name: string, bytes: number, allowOvercommit: boolean, what: string, files: StorageFiles): Promise<void> {
  await checkNoFileAt(ctx, pool, name, files);
  checkFreeSpace(pool, bytes, allowOvercommit, what);
}

async function checkNoFileAt(ctx: StorageConnection, pool: PoolRecord, name: string, files: StorageFiles): Promise<void> {
  const path = localFileFor(ctx, pool, name);
  if (path !== undefined && (await files.stat(path)) !== undefined) {
    throw new ConflictError(`a file that is not a volume of pool ${pool.name} already exists at ${path}; kvmctl never overwrites it`, `choose another name, or look at the file (${kvmctlCommand(ctx.uri, 'pool', 'refresh', pool.name)} lists it as a volume)`);
  }
}

export function checkFreeSpace(pool: PoolRecord, bytes: number, allowOvercommit: boolean, what: string): void {
  if (allowOvercommit || pool.availableBytes === undefined || bytes <= pool.availableBytes) return;
  throw new RefusedError(
    `${what} would need up to ${formatBytes(bytes)}, more than the ${formatBytes(pool.availableBytes)} free in pool ${pool.name}`,
    'free space in the pool, choose another pool, or pass --allow-overcommit for a thin volume that will not fill up',
  );
}

const IMAGE_EXTENSION = /\.(qcow2|qcow|img|raw|vmdk|vdi|vhdx|vhd)$/i;

/** disk.qcow2 -> disk.raw when the format changes; a name without a known extension gets one appended. */
export function nameForFormat(name: string, from: string, to: string): string {
  if (from === to) return name;
  return IMAGE_EXTENSION.test(name) ? name.replace(IMAGE_EXTENSION, `.${to}`) : `${name}.${to}`;
}

export function parseTargetFormat(option: string, value: string | undefined, fallback: TargetFormat): TargetFormat {
  if (value === undefined) return fallback;
  if (!(TARGET_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`invalid ${option} ${JSON.stringify(value)}`, `use ${option} ${TARGET_FORMATS.join(` or ${option} `)}`);
  }
  return value as TargetFormat;
}
