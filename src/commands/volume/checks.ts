/** Checks every volume command that writes shares: nothing overwritten, free space, identical re-runs. */
import type { Context } from '../../context.js';
import { ConflictError, RefusedError, UsageError } from '../../errors.js';
import type { PoolRecord, VolumeRecord } from '../../libvirt/storage.js';
import { formatBytes } from '../../units/size.js';
import type { StorageFiles } from '../../storage/local-files.js';
import { localFileFor } from '../../storage/inventory.js';
import { TARGET_FORMATS, type TargetFormat } from '../../libvirt/disk-formats.js';
import { qemuImg } from '../../storage/qemu-img.js';
import { kvmctlCommand } from '../../exec/command.js';

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
export async function checkNoFileAt(ctx: Context, pool: PoolRecord, name: string, files: StorageFiles): Promise<void> {
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

/**
 * Whether two local images hold the same guest-visible data (qemu-img compare,
 * formats named): how a re-run of import, clone or convert knows it is a no-op.
 */
export async function sameContent(ctx: Context, a: { path: string; format: string }, b: { path: string; format: string }): Promise<boolean> {
  const r = await ctx.runner.run(qemuImg.compare(a.path, a.format, b.path, b.format));
  return r.exitCode === 0;
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
