/**
 * Whether a file or device the user named may become a VM disk. A guest
 * writes its disks as root: /etc/passwd, a key under ~/.ssh or the block
 * device holding the host's root filesystem must never be one. Refused
 * before anything is created; the paths of other VMs' disks are checked by
 * the caller, which has read the domains.
 */
import { posix } from 'node:path';
import { RefusedError, UsageError } from '../errors.js';
import { systemFile } from './host-paths.js';
import type { StorageFiles } from './local-files.js';

export async function checkDiskPath(label: string, path: string, local: boolean, files: StorageFiles, stateDir?: string, readOnly = false): Promise<string> {
  const refuse = (why: string) => new UsageError(`${label}: ${JSON.stringify(path)} cannot be a VM disk: ${why}`, 'give an image file in a directory meant for VM disks (or a pool volume with vol=POOL/VOL)');
  if (posix.normalize(path) !== path || path.split('/').includes('..')) throw refuse(`it is not in normal form (write it as ${posix.normalize(path)})`);
  const lexical = systemFile(path, stateDir, readOnly);
  if (lexical) throw refuse(lexical);
  if (!local) return path;
  const resolved = await files.resolve(path);
  const through = resolved === path ? '' : `it leads through a symlink to ${resolved}, and `;
  const place = systemFile(resolved, stateDir, readOnly);
  if (place) throw refuse(`${through}${place}`);
  const facts = await files.stat(resolved);
  if (resolved.startsWith('/dev/') && facts?.kind !== 'block') throw refuse(`${through}${facts ? 'it is not a block device' : 'no such device'}`);
  if (facts && facts.kind !== 'file' && facts.kind !== 'block') throw refuse(`${through}it is not a regular file or a block device`);
  if (facts?.kind === 'block') {
    const uses = await files.deviceUses(resolved);
    if (uses.length > 0) {
      throw new RefusedError(`${label}: the block device ${resolved} is in use on this host: ${uses.join('; ')}`, 'give a device nothing on the host uses (check with lsblk -f and swapon --show)');
    }
  }
  return path;
}
