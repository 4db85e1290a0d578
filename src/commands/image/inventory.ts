/** Pulled images as list, info and remove see them: records beside the images, joined with libvirt's volumes and VMs. */
import { arg, verbOn } from '../../verb.js';
import type { Context } from '../../context.js';
import { NotFoundError, UsageError } from '../../errors.js';
import type { VolumeRecord } from '../../libvirt/storage.js';
import { dependentsOf, localFileFor, readStorage, usersOf, type StorageView } from '../../storage/inventory.js';
import { parseVolumeRef } from '../../storage/volume-ref.js';
import { readImageRecords, type ImageRecord } from '../../images/store.js';

export interface ImageEntry {
  record: ImageRecord;
  volume?: VolumeRecord;
  /** Volumes that are overlays on it. */
  overlays: string[];
  /** VMs that use it directly or through an overlay. */
  vms: string[];
}

export async function readImages(ctx: Context): Promise<{ view: StorageView; images: ImageEntry[] }> {
  const view = await readStorage(ctx);
  const dirs = view.pools.filter((p) => p.active && p.targetPath !== undefined && localFileFor(ctx, p, 'x') !== undefined);
  const records = (await Promise.all(dirs.map((p) => readImageRecords(p.targetPath!)))).flat();
  const images = records.map((record): ImageEntry => {
    const volume = view.volumes.find((v) => v.pool === record.pool && v.name === record.name);
    const overlays = volume ? dependentsOf(view, volume) : [];
    const vms = new Set<string>();
    for (const v of volume ? [volume, ...overlays] : []) for (const u of usersOf(view, v)) vms.add(u.vm);
    return { record, volume, overlays: overlays.map((o) => `${o.pool}/${o.name}`), vms: [...vms].sort() };
  });
  return { view, images };
}

/** POOL/NAME, a volume name, or the catalog name it was pulled by. */
export function findImage(images: ImageEntry[], text: string): ImageEntry {
  let matches: ImageEntry[];
  if (text.includes('/')) {
    const ref = parseVolumeRef(text);
    matches = images.filter((i) => i.record.pool === ref.pool && i.record.name === ref.volume);
  } else {
    matches = images.filter((i) => i.record.name === text);
    if (matches.length === 0) matches = images.filter((i) => i.record.catalogName === text);
  }
  if (matches.length === 0) throw new NotFoundError(`image ${JSON.stringify(text)} not found`, 'list the pulled images with: kvmctl image list', { object: { kind: 'image', name: text } });
  if (matches.length > 1) {
    throw new UsageError(`image ${JSON.stringify(text)} is in several pools (${matches.map((m) => m.record.pool).join(', ')})`, `name it as POOL/NAME, e.g. ${matches[0]!.record.pool}/${matches[0]!.record.name}`);
  }
  return matches[0]!;
}

/** An image's record, every key present (the JSON of image remove). */
export function imageRecordJson(r: ImageRecord) {
  return { name: r.name, pool: r.pool, path: r.path, source: r.source, catalogName: r.catalogName ?? null, digest: r.digest, sizeBytes: r.sizeBytes, format: r.format, pulledAt: r.pulledAt };
}

/**
 * The JSON object of a pulled image, the one mapping image list, info and
 * pull print: its record, whether its volume is there, and what stands on it
 * (null when kvmctl did not read that: an image pull that found it pulled).
 */
export function imageJson(i: Pick<ImageEntry, 'record'> & { volume?: unknown; overlays: string[] | null; vms: string[] | null }) {
  return { ...imageRecordJson(i.record), present: i.volume !== undefined, overlays: i.overlays, vms: i.vms };
}

/** A verb on one pulled image (`kvmctl image VERB IMAGE`). */
export const imageVerb = verbOn([arg('<image>', 'POOL/NAME, NAME, or the catalog name it was pulled by')]);
