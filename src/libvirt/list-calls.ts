/**
 * Listing calls kept apart from their builders' XML codecs (domainCalls and
 * networkCalls hand out these same functions), so that src/early.ts, which
 * writes vm list's first round before the bundle loads, stays small.
 */
import { read } from './virsh-client.js';

/** `virsh list --all --autostart --name`: the names of the VMs that start with the host. */
export const listAutostartNamesCall = () => read(['list', '--all', '--autostart', '--name']);

/** `virsh net-list --all`: every network, active or not. */
export const netListCall = () => read(['net-list', '--all']);
