import type { Context } from '../../context.js';
import { withLock } from '../../exec/lock.js';
import { inventoryPath } from '../../inventory/hosts-file.js';

/** Edits of one inventory file serialise across kvmctl processes. */
export function withInventory<T>(ctx: Context, fn: (path: string) => Promise<T>): Promise<T> {
  const path = inventoryPath(ctx.io.env);
  if (ctx.dryRun) return fn(path);
  return withLock(`hosts-inventory ${path}`, { dir: ctx.stateDir, signal: ctx.signal }, () => fn(path));
}
