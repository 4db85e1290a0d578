/**
 * A VM's state, read with one `virsh domstate --reason`: the first step of
 * most lifecycle verbs, and what the wait loops poll.
 */
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { domainCalls, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';

export interface VmState {
  /** One word, as domstats names it: running, shutoff, paused, shutdown, crashed, pmsuspended, blocked. */
  state: string;
  /** libvirt's reason: booted, destroyed, shutdown, user, … */
  reason?: string;
}

/** Throws NotFoundError (exit 3) naming the VM when it does not exist. */
export async function readVmState(ctx: Context, name: string): Promise<VmState> {
  const parsed = parseDomstate(await ctx.virsh.run(domainCalls.domstate(name)));
  return { state: stateKey(parsed.state), reason: parsed.reason };
}

/**
 * The name of a VM that should exist. Unlike names for creation, any
 * non-empty name is accepted, so VMs defined elsewhere with spaces, ';' or a
 * leading '-' can still be managed.
 */
export function checkVmName(name: string): string {
  if (name === '') throw new UsageError('the VM name is empty', 'list the VMs with: kvmctl vm list');
  return name;
}
