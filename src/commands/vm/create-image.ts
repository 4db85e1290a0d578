/**
 * vm create --image with a catalog name, a URL or a local file: the image is
 * pulled (or imported) into the pool first, once; a second VM finds it there.
 */
import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { RefusedError } from '../../errors.js';
import { Output } from '../../output/output.js';
import { formatBytes } from '../../units/size.js';
import type { VolumeRef } from '../../storage/volume-ref.js';
import { validateNewName } from '../../validate/names.js';
import { pullImage, resolvePullSpec } from '../../images/pull.js';
import { runVolumeImport } from '../volume/import.js';
import type { ImageSource } from './create-args.js';

/** Makes the image available in the pool and returns its volume. Nothing is fetched for --print-xml or --dry-run. */
export async function ensureImage(ctx: Context, source: ImageSource, pool: string, planOnly: boolean): Promise<VolumeRef> {
  if (source.kind === 'file') {
    // The volume takes the file's name: a new volume's name rule applies to it.
    const volume = validateNewName('volume', posix.basename(source.text), "the file name of --image (a new volume's name)");
    if (planOnly) return { pool, volume };
    // volume import's own checks and messages; its result line is not vm create's.
    const quiet = { ...ctx, out: new Output(ctx.io, { ...ctx.out.options, format: 'table', quiet: true }) };
    await runVolumeImport(quiet, source.text, { pool, name: volume });
    return { pool, volume };
  }
  const spec = await resolvePullSpec(ctx, source.text, { pool, checksum: source.checksum });
  if (planOnly) {
    const cached = await pullImage(ctx, spec, { cachedOnly: true });
    if (!cached) throw new RefusedError(`--image ${source.text}: image ${spec.pool}/${spec.name} is not pulled yet, so there is no plan to show`, `pull it first: ${kvmctlCommand(ctx.uri, 'image', 'pull', source.text, '--pool', spec.pool)}`);
    return { pool, volume: spec.name };
  }
  const r = await pullImage(ctx, spec);
  if (!r.unchanged) ctx.out.info(`pulled ${r.image.source} as image ${spec.pool}/${spec.name} (${formatBytes(r.image.sizeBytes)}, ${r.image.digest.split(':')[0]} verified)`);
  return { pool, volume: spec.name };
}
