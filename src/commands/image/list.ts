import type { Context } from '../../context.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { findImage, imageJson, readImages, type ImageEntry } from './inventory.js';
import { loadCatalog } from '../../images/catalog.js';

const columns: Column<ImageEntry>[] = [
  { header: 'IMAGE', value: (i) => `${i.record.pool}/${i.record.name}` },
  { header: 'FORMAT', value: (i) => i.record.format },
  { header: 'SIZE', value: (i) => formatBytes(i.record.sizeBytes) },
  { header: 'DIGEST', value: (i) => i.record.digest.slice(0, i.record.digest.indexOf(':') + 13) },
  { header: 'PULLED', value: (i) => i.record.pulledAt.slice(0, 16).replace('T', ' ') },
  { header: 'SOURCE', value: (i) => (i.volume ? i.record.source : `${i.record.source} (volume missing)`) },
  { header: 'USED BY', value: (i) => i.vms.join(', ') },
];

export async function runImageList(ctx: Context): Promise<void> {
  const { images } = await readImages(ctx);
  ctx.out.list(columns, images, images.map(imageJson));
}

export async function runImageInfo(ctx: Context, text: string): Promise<void> {
  const { images } = await readImages(ctx);
  const i = findImage(images, text);
  const r = i.record;
  ctx.out.details(
    [
      ['image', `${r.pool}/${r.name}`],
      ['path', r.path],
      ['source', r.source],
      ['catalog name', r.catalogName],
      ['digest', r.digest],
      ['format', r.format],
      ['size', formatBytes(r.sizeBytes)],
      ['pulled', r.pulledAt],
      ['volume', i.volume ? 'present' : 'missing (deleted outside kvmctl)'],
      ['overlays', i.overlays.join(', ')],
      ['used by', i.vms.join(', ')],
    ],
    [],
    imageJson(i),
  );
}

export async function runImageCatalog(ctx: Context): Promise<void> {
  const entries = await loadCatalog(ctx.io.env, (p) => ctx.fs.read(p));
  ctx.out.list(
    [
      { header: 'NAME', value: (e) => e.name },
      { header: 'DESCRIPTION', value: (e) => e.description },
      { header: 'VERIFIED BY', value: (e) => (e.checksum ? e.checksum.algorithm : e.sumsSignature ? 'signed SUMS' : 'SUMS') },
      { header: 'ORIGIN', value: (e) => e.origin },
      { header: 'URL', value: (e) => e.url },
    ],
    entries,
    entries.map((e) => ({ ...e, checksum: e.checksum ? `${e.checksum.algorithm}:${e.checksum.hex}` : undefined })),
  );
}
