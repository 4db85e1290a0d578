/**
 * Listing calls kept apart from their builders' XML codecs (domainCalls,
 * networkCalls and poolCalls hand out these same functions), so that
 * src/early.ts, which starts vm list's and volume list's first virsh
 * processes before the bundle loads, stays small.
 */
import { read, type VirshCall } from './virsh-client.js';

/** `virsh list --all --autostart --name`: the names of the VMs that start with the host. */
export const listAutostartNamesCall = () => read(['list', '--all', '--autostart', '--name']);

/** `virsh net-list --all`: every network, active or not. */
export const netListCall = () => read(['net-list', '--all']);

/** `virsh pool-list --all --name`: every pool's name. */
export const poolNamesCall = () => read(['pool-list', '--all', '--name']);

/** `virsh pool-info`: state, autostart, persistence. */
export const poolInfoCall = (pool: string) => read(['pool-info', '--pool', pool], { kind: 'pool', name: pool });

/** `virsh pool-dumpxml`: type, target path, sizes, source. */
export const poolDumpxmlCall = (pool: string) => read(['pool-dumpxml', '--pool', pool], { kind: 'pool', name: pool });

/** The pool's volumes (a Name and a Path column); libvirt lists those of active pools only. */
export const volListCall = (pool: string) => read(['vol-list', '--pool', pool], { kind: 'pool', name: pool });

/** What the pool loader (libvirt/storage.ts loadPools) reads of named pools, in one batch: each pool's info, XML and volumes. */
export function poolsBatch(pools: string[], volumes: (pool: string) => VirshCall = volListCall) {
  return { pools: pools.map((p) => ({ info: poolInfoCall(p), xml: poolDumpxmlCall(p), vols: volumes(p) })) };
}

/** Every VM's state and disks (with their backing chains), from libvirt's memory. */
export const diskStatsCall = () => read(['domstats', '--raw', '--state', '--block', '--backing']);

/**
 * The first batch of who uses which volume (libvirt/disk-uses.ts): every VM's
 * disks and the autostart flags, read while the volumes are still being listed.
 */
export function diskUsesFirstBatch() {
  return { stats: diskStatsCall(), autostart: listAutostartNamesCall() };
}
