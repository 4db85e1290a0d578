import type { Context } from '../../context.js';
import { poolCalls } from '../../libvirt/storage.js';
import { flag, type OptionsOf } from '../../verb.js';
import { poolResult } from './pool-json.js';
import { loadOnePool, poolVerb } from './one-pool.js';

export const options = { disable: flag('--disable', 'turn autostart off') };
export type PoolAutostartOptions = OptionsOf<typeof options>;

export async function runPoolAutostart(ctx: Context, name: string, opts: PoolAutostartOptions): Promise<void> {
  const pool = await loadOnePool(ctx, name);
  const enable = !opts.disable;
  const word = enable ? 'on' : 'off';
  if (pool.autostart === enable) return ctx.out.done(`storage pool ${name} autostart is already ${word}: unchanged`, poolResult(false, pool));
  await ctx.virsh.run(poolCalls.autostart(name, enable));
  ctx.out.done(`storage pool ${name} autostart ${word}`, poolResult(true, { ...pool, autostart: enable }));
}

export const poolAutostartCommand = poolVerb('autostart', 'start the pool when libvirtd starts (or not, with --disable)', runPoolAutostart, {
  options,
  examples: ['kvmctl pool autostart images', 'kvmctl pool autostart images --disable'],
});
