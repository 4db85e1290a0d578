import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { poolCalls, volumeUsers } from '../../libvirt/storage.js';
import { loadOnePool, poolsVerb } from './one-pool.js';
import { poolResult, withActive } from './pool-json.js';

export async function runPoolStop(ctx: Context, name: string): Promise<void> {
  const pool = await loadOnePool(ctx, name);
  if (!pool.active) return ctx.out.done(`storage pool ${name} is already stopped: unchanged`, poolResult(false, pool));
  // A running VM keeps its open files, but a netfs/fs pool would be unmounted under it.
  const domains = await loadDomains(ctx.runner, ctx.uri);
  const inUse = (pool.volumes ?? []).flatMap((v) =>
    volumeUsers(domains, { pool: name, ...v })
      .filter((u) => u.active)
      .map((u) => `${v.name} by ${u.vm}`),
  );
  if (inUse.length > 0) {
    throw new RefusedError(`storage pool ${name} has volumes in use by running VMs: ${inUse.join(', ')}`, 'shut those VMs down first (kvmctl vm stop VM)');
  }
  await ctx.virsh.run(poolCalls.destroy(name));
  ctx.out.done(`storage pool ${name} stopped (its files are untouched)`, poolResult(true, withActive(pool, false)));
}

export const poolStopCommand = poolsVerb('stop', 'stop (deactivate) a pool; its files stay; refused while running VMs use its volumes', runPoolStop, {
  examples: ['kvmctl pool stop images'],
});
