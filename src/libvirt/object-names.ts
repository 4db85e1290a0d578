/**
 * One virsh call for the names of one kind of object, for shell completion:
 * VMs, pools, networks, or the volumes of one pool.
 */
import { poolCalls } from './storage.js';
import { read, type VirshCall } from './virsh-client.js';

export const objectNameCalls = {
  vms: (): VirshCall => read(['list', '--all', '--name']),
  pools: (): VirshCall => poolCalls.list(),
  networks: (): VirshCall => read(['net-list', '--all', '--name']),
  /** Parse with parseVolList (names may hold spaces; there is no --name for vol-list). */
  volumes: (pool: string): VirshCall => read(['vol-list', '--pool', pool], { kind: 'pool', name: pool }),
};
