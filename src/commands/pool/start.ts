import type { Context } from '../../context.js';
import { isLocalUri, poolCalls } from '../../libvirt/storage.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { missingDirectoryIn, missingPoolDirectory, requirePoolDirectory } from '../../storage/pool-path.js';
import { loadOnePool, poolsVerb } from './one-pool.js';
import { poolResult, withActive } from './pool-json.js';

/** No options: `_o` is the verb's empty options object; `files` is for tests. */
export async function runPoolStart(ctx: Context, name: string, _o: Record<never, never> = {}, files: StorageFiles = realStorageFiles): Promise<void> {
  const pool = await loadOnePool(ctx, name);
  if (pool.active) return ctx.out.done(`storage pool ${name} is already running: unchanged`, poolResult(false, pool));
  await requirePoolDirectory(pool, ctx.uri, isLocalUri(ctx.uri), files);
  const r = await ctx.virsh.attempt(poolCalls.start(name));
  if (r.exitCode !== 0) {
    const missing = missingDirectoryIn(r.stderr);
    throw missing !== undefined ? missingPoolDirectory(ctx.uri, name, missing) : r.error();
  }
  ctx.out.done(`storage pool ${name} started`, poolResult(true, withActive(pool, true)));
}

export const poolStartCommand = poolsVerb('start', 'start (activate) a pool', runPoolStart, {
  examples: ['kvmctl pool start images'],
});
