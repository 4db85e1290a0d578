/**
 * What the lifecycle verbs (start, reboot, suspend, resume, destroy) report.
 * Each reads the state first: asking for the state a VM is already in is
 * "unchanged" (exit 0); asking for something its state does not allow is
 * exit 5 with the state named.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';

export function unchanged(ctx: Context, name: string, state: string, why: string): void {
  ctx.out.done(`vm ${name} unchanged (${why})`, { name, state, changed: false });
}

export function changed(ctx: Context, name: string, state: string, what: string): void {
  ctx.out.done(`vm ${name} ${what}`, { name, state, changed: true });
}

export function refuse(name: string, state: string, verb: string, hint: string): RefusedError {
  return new RefusedError(`cannot ${verb} VM ${JSON.stringify(name)}: it is ${state}`, hint);
}
