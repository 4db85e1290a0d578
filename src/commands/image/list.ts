import { verb } from '../../verb.js';
import type { Context } from '../../context.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { imageJson, readImages, type ImageEntry } from './inventory.js';

const columns: Column<ImageEntry>[] = [
  { header: 'IMAGE', value: (i) => `${i.record.pool}/${i.record.name}`, name: true },
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

export const imageListCommand = verb('list', 'list pulled images: source URL, digest, size, format, when pulled, and the VMs using each', runImageList, {
  examples: ['kvmctl image list', 'kvmctl image list -o json'],
});
