import { verb } from '../../verb.js';
import type { Context } from '../../context.js';
import { loadCatalog } from '../../images/catalog.js';

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
    entries.map((e) => ({
      name: e.name,
      description: e.description,
      url: e.url,
      checksum: e.checksum ? `${e.checksum.algorithm}:${e.checksum.hex}` : null,
      sums: e.sums ?? null,
      sumsSignature: e.sumsSignature ?? null,
      keyring: e.keyring ?? null,
      origin: e.origin,
    })),
  );
}

export const imageCatalogCommand = verb('catalog', 'list the image names pull accepts, with their URLs and how each is verified', runImageCatalog, {
  examples: ['kvmctl image catalog', 'kvmctl image catalog -o json'],
});
