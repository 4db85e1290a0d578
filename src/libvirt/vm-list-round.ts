/**
 * The first round of `vm list`'s session (commands/vm/list.ts): every VM's
 * state, vCPUs, memory and block devices, the autostart flags and the
 * networks. One function for both its users: the command, and src/early.ts,
 * which writes this round into the session's process before the bundle loads
 * (the run then claims that process only when it sends these very bytes).
 */
import { domstatsCall } from './domstats.js';
import { listAutostartNamesCall, netListCall } from './list-calls.js';

export const VM_STATE_FILTERS = ['running', 'shutoff', 'paused'] as const;
export type VmStateFilter = (typeof VM_STATE_FILTERS)[number];

/** The calls of the first round, keyed as vm list reads them. */
export function vmListFirstRound(state: VmStateFilter | undefined) {
  return {
    // --nowait: a VM busy with a job (the target of a migration) would otherwise hold the whole list until the job ends.
    stats: domstatsCall(['state', 'vcpu', 'balloon', 'block', 'interface'], state, { nowait: true }),
    autostart: listAutostartNamesCall(),
    networks: netListCall(),
  };
}
