/** The target directory of a new pool (or a log directory): absolute, already resolved, and no system or shared directory. */
import { posix } from 'node:path';
import { kvmctlCommand, shellQuote } from '../exec/command.js';
import { RefusedError, UsageError } from '../errors.js';
import { isDirectoryPoolType } from '../libvirt/pool-xml.js';
import { systemPlace } from './host-paths.js';
import type { StorageFiles } from './local-files.js';

/** What to use instead, by option: a pool's directory, or where the serial log goes. */
function placeHint(option: string): string {
  return option === '--log-dir' ? 'use a directory meant for logs, such as /var/log/kvmctl' : 'use a directory meant for data, such as /var/lib/libvirt/images or /srv/vm';
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
  if (trimmed === '/') throw bad('it is the root directory');
  const place = systemPlace(trimmed);
  if (place) throw bad(place, placeHint(option));
  return trimmed;
}

/**
 * Lexical checks, then (for a directory on this machine) the same checks on
 * the path with its symlinks resolved: a symlink to /etc or /root/.ssh is
 * refused too. kvmctl's own state directory is refused either way.
 */
export async function checkPoolPath(option: string, path: string, local: boolean, files: StorageFiles, stateDir?: string): Promise<string> {
  const clean = checkPoolPathSyntax(option, path);
  const own = systemPlace(clean, stateDir);
  if (own) throw new UsageError(`invalid ${option} ${JSON.stringify(path)}: ${own}`, placeHint(option));
  if (!local) return clean;
  const resolved = await files.resolve(clean);
  const place = resolved === clean ? undefined : systemPlace(resolved, stateDir && (await files.resolve(stateDir)));
  if (place) throw new UsageError(`invalid ${option} ${JSON.stringify(path)}: it leads through a symlink to ${resolved}, and ${place}`, placeHint(option));
  return clean;
}

/**
 * A directory pool whose target directory was removed outside kvmctl cannot
 * start (libvirt only says it cannot open it). On this machine kvmctl looks
 * first and says what to do; elsewhere it recognises libvirt's message.
 */
export function missingPoolDirectory(uri: string, pool: string, dir: string): RefusedError {
  return new RefusedError(
    `storage pool ${pool}: its directory ${dir} does not exist (removed outside kvmctl?), so the pool cannot run`,
    `re-create the directory: mkdir -p -m 0711 -- ${shellQuote(dir)}, then run: ${kvmctlCommand(uri, 'pool', 'start', pool)}`,
  );
}

/** The missing directory libvirt names in a failed pool-start or pool-refresh, if that is why it failed. */
export function missingDirectoryIn(stderr: string): string | undefined {
  return /cannot open (?:directory|path) '([^']*)': No such file or directory/.exec(stderr)?.[1];
}

export async function requirePoolDirectory(pool: { name: string; type: string; targetPath?: string }, uri: string, local: boolean, files: StorageFiles): Promise<void> {
  if (!local || !isDirectoryPoolType(pool.type) || pool.targetPath === undefined) return;
  if ((await files.stat(pool.targetPath))?.kind !== 'directory') throw missingPoolDirectory(uri, pool.name, pool.targetPath);
}
