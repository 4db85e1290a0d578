/** The one pool a lifecycle verb acts on, or a not-found error naming it. */
import type { Context } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { loadPools, type PoolRecord } from '../../libvirt/storage.js';
import { validateName } from '../../validate/names.js';
import { arg, names, verbOn } from '../../verb.js';

export async function loadOnePool(ctx: Context, name: string): Promise<PoolRecord> {
  validateName('pool', name);
  const [pool] = await loadPools(ctx.runner, ctx.uri, [name]);
  if (!pool) throw new NotFoundError(`storage pool ${JSON.stringify(name)} not found`, `list the pools with: ${kvmctlCommand(ctx.uri, 'pool', 'list')}`, { object: { kind: 'pool', name } });
  return pool;
}

export const poolNameArg = arg('<name>', 'pool name');

/** A verb on one pool (`kvmctl pool VERB NAME`). */
export const poolVerb = verbOn([poolNameArg]);

/** A verb on one or more pools (`kvmctl pool VERB NAME...`), each in turn. */
export const poolsVerb = verbOn([names('<name...>', 'pool name(s)', { kind: 'pool' })]);
