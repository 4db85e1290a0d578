/**
 * One virsh call for the names of one kind of object, for shell completion:
 * VMs, pools, networks, or the volumes of one pool.
 */
import type { Command } from '../exec/command.js';
import { poolCommands } from './storage.js';
import { virshRead } from './virsh.js';

export const objectNameCommands = {
  vms: (uri: string): Command => virshRead(uri, ['list', '--all', '--name']),
  pools: (uri: string): Command => poolCommands.list(uri),
  networks: (uri: string): Command => virshRead(uri, ['net-list', '--all', '--name']),
  /** Parse with parseVolList (names may hold spaces; there is no --name for vol-list). */
  volumes: (uri: string, pool: string): Command => virshRead(uri, ['vol-list', '--pool', pool]),
};
