/**
 * What the lifecycle verbs (start, reboot, suspend, resume, destroy) share.
 * Each reads the state first: asking for the state a VM is already in is
 * "unchanged" (exit 0); asking for something its state does not allow is
 * exit 5 with the state named.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import type { VirshCall } from '../../libvirt/virsh-client.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmStateResult } from './vm-object.js';

export function unchanged(ctx: Context, name: string, state: string, why: string): void {
  ctx.out.done(`vm ${name} unchanged (${why})`, vmStateResult(name, state, false));
}

export function changed(ctx: Context, name: string, state: string, what: string): void {
  ctx.out.done(`vm ${name} ${what}`, vmStateResult(name, state, !ctx.dryRun));
}

/** One change of state as data: the call that makes it, the states it applies to, what it reports. */
export interface StateChange {
  verb: string;
  call: (name: string) => VirshCall;
  /** States in which there is nothing to do ("unchanged (already STATE)", exit 0). */
  doneIn?: (state: string) => boolean;
  /** States it can act in; in any other it is refused (exit 5) with this hint. */
  from: (state: string) => boolean;
  hint: (ctx: Context, name: string, state: string) => string;
  /** The state afterwards, and what the report says happened. */
  to: string;
  says: string;
}

export async function changeState(ctx: Context, name: string, c: StateChange): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (c.doneIn?.(state)) return unchanged(ctx, name, state, `already ${state}`);
  if (!c.from(state)) throw new RefusedError(`cannot ${c.verb} VM ${JSON.stringify(name)}: it is ${state}`, c.hint(ctx, name, state));
  await ctx.virsh.run(c.call(name));
  changed(ctx, name, c.to, c.says);
}
