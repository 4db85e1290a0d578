/**
 * What the lifecycle verbs (start, reboot, suspend, resume, destroy) share.
 * Each reads the state first: asking for the state a VM is already in is
 * "unchanged" (exit 0); asking for something its state does not allow is
 * exit 5 with the state named.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
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
interface StateChange {
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

const startWith = (why: string) => (ctx: Context, name: string) => `${why}; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`;
const rebootHint = (ctx: Context, name: string, state: string) =>
  state === 'paused' ? `resume it first: ${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}` : `start it instead: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`;

/** The verbs that are one virsh call once the state allows it (vm start checks more first: start.ts). */
const STATE_CHANGES = {
  destroy: { call: domainCalls.destroy, doneIn: (s) => !isActive(s), from: isActive, hint: () => '', to: 'shutoff', says: 'powered off (destroyed; its disks and definition are kept)' },
  reboot: { call: domainCalls.reboot, from: (s) => s === 'running', hint: rebootHint, to: 'running', says: 'asked to reboot (ACPI)' },
  resume: { call: domainCalls.resume, doneIn: (s) => s === 'running', from: (s) => s === 'paused', hint: startWith('only a paused VM can be resumed'), to: 'running', says: 'resumed' },
  suspend: { call: domainCalls.suspend, doneIn: (s) => s === 'paused', from: (s) => s === 'running', hint: startWith('only a running VM can be suspended'), to: 'paused', says: 'suspended (paused)' },
} satisfies Record<string, StateChange>;

export type StateVerb = keyof typeof STATE_CHANGES;

/** `vm VERB NAME` for a verb of STATE_CHANGES: "unchanged" where it is done already, exit 5 where the state does not allow it. */
export async function changeState(ctx: Context, name: string, verb: StateVerb): Promise<void> {
  const c: StateChange = STATE_CHANGES[verb];
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (c.doneIn?.(state)) return unchanged(ctx, name, state, `already ${state}`);
  if (!c.from(state)) throw new RefusedError(`cannot ${verb} VM ${JSON.stringify(name)}: it is ${state}`, c.hint(ctx, name, state));
  await ctx.virsh.run(c.call(name));
  changed(ctx, name, c.to, c.says);
}
