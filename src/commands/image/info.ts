import type { Context } from '../../context.js';
import { formatBytes } from '../../units/size.js';
import { findImage, imageJson, readImages, imageVerb } from './inventory.js';

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

export const imageInfoCommand = imageVerb('info', 'show one pulled image', runImageInfo, {
  examples: ['kvmctl image info debian-12', 'kvmctl image info default/debian-12.qcow2 -o json'],
});
