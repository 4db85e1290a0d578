import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { loadPools, poolCalls } from '../../libvirt/storage.js';
import { poolResult } from './pool-json.js';
import { loadOnePool, poolVerb } from './one-pool.js';

export async function runPoolRefresh(ctx: Context, name: string): Promise<void> {
  const pool = await loadOnePool(ctx, name);
  if (!pool.active) throw new RefusedError(`storage pool ${name} is not active, so it cannot be refreshed`, `start it with: ${kvmctlCommand(ctx.uri, 'pool', 'start', name)}`);
  await ctx.virsh.run(poolCalls.refresh(name));
  // libvirt re-reads the volumes: their count is what it now lists.
  const [now] = ctx.dryRun ? [pool] : await loadPools(ctx.runner, ctx.uri, [name]);
  ctx.out.done(`storage pool ${name} refreshed`, poolResult(true, now ?? pool));
}

export const poolRefreshCommand = poolVerb('refresh', "re-read a pool's volumes (after files were added or removed by hand)", runPoolRefresh, {
  examples: ['kvmctl pool refresh images'],
});
