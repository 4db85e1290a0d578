/** The target directory of a new pool: absolute, already resolved, and not a system directory. */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import type { StorageFiles } from './local-files.js';

/** Directories whose contents belong to the system; a pool inside one could overwrite or expose them. */
export const FORBIDDEN_POOL_ROOTS = ['/etc', '/dev', '/proc', '/sys', '/boot', '/usr', '/run', '/bin', '/sbin', '/lib', '/lib64'];

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root + '/');
}

/** Lexical checks; returns the path without a trailing slash. */
export function checkPoolPathSyntax(option: string, path: string): string {
  const bad = (why: string, hint = 'give an absolute path such as /var/lib/libvirt/images') =>
    new UsageError(`invalid ${option} ${JSON.stringify(path)}: ${why}`, hint);
  if (/[\u0000-\u001f\u007f]/.test(path)) throw bad('it contains control characters');
  if (!path.startsWith('/')) throw bad('it is not absolute');
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (trimmed.split('/').some((c) => c === '.' || c === '..')) throw bad("it contains '.' or '..' components", `write it resolved: ${posix.resolve(path)}`);
  if (posix.normalize(trimmed) !== trimmed) throw bad('it is not in normal form', `write it as ${posix.normalize(trimmed)}`);
  if (trimmed === '/') throw bad('a pool cannot be the root directory');
  const root = FORBIDDEN_POOL_ROOTS.find((r) => within(trimmed, r));
  if (root) throw bad(`it is inside ${root}, a system directory`, 'use a directory meant for data, such as /var/lib/libvirt/images or /srv/vm');
  return trimmed;
}

/**
 * Lexical checks, then (for a pool on this machine) the same checks on the
 * path with its symlinks resolved: a symlink into /etc is refused too.
 */
export async function checkPoolPath(option: string, path: string, local: boolean, files: StorageFiles): Promise<string> {
  const clean = checkPoolPathSyntax(option, path);
  if (!local) return clean;
  const resolved = await files.resolve(clean);
  if (resolved !== clean) {
    const root = FORBIDDEN_POOL_ROOTS.find((r) => within(resolved, r));
    if (root || resolved === '/') {
      throw new UsageError(
        `invalid ${option} ${JSON.stringify(path)}: it leads through a symlink to ${resolved}, inside ${root ?? '/'}`,
        'use a real directory meant for data, such as /var/lib/libvirt/images',
      );
    }
  }
  return clean;
}
