/**
 * virsh storage-pool and storage-volume argv builders. Names are separate argv
 * elements; sizes are passed in bytes.
 */
import type { Command } from '../exec/command.js';
import { virshRead, virshWrite } from './virsh.js';

export type VolumeFormat = 'qcow2' | 'raw' | 'vmdk' | 'iso';

export const poolCommands = {
  list: (uri: string) => virshRead(uri, ['pool-list', '--all', '--name']),
  dumpxml: (uri: string, pool: string) => virshRead(uri, ['pool-dumpxml', '--pool', pool]),
  refresh: (uri: string, pool: string) => virshWrite(uri, ['pool-refresh', '--pool', pool]),
};

export interface CreateVolumeArgs {
  pool: string;
  name: string;
  capacityBytes: number;
  format: VolumeFormat;
  /** Thin overlay on this volume (key, path or name within the pool). */
  backingVol?: string;
  backingFormat?: VolumeFormat;
}

export const volumeCommands = {
  list: (uri: string, pool: string) => virshRead(uri, ['vol-list', '--pool', pool, '--details']),
  dumpxml: (uri: string, pool: string, vol: string) => virshRead(uri, ['vol-dumpxml', '--pool', pool, '--vol', vol]),
  path: (uri: string, pool: string, vol: string) => virshRead(uri, ['vol-path', '--pool', pool, '--vol', vol]),
  createAs(uri: string, a: CreateVolumeArgs): Command {
    const args = ['vol-create-as', '--pool', a.pool, '--name', a.name, '--capacity', `${a.capacityBytes}b`, '--format', a.format];
    if (a.backingVol !== undefined) args.push('--backing-vol', a.backingVol, '--backing-vol-format', a.backingFormat ?? 'qcow2');
    return virshWrite(uri, args);
  },
  delete: (uri: string, pool: string, vol: string) => virshWrite(uri, ['vol-delete', '--pool', pool, '--vol', vol]),
};
