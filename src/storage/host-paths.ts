/**
 * Which places on a host kvmctl never makes a pool of, never writes a log
 * into, and never hands to a VM as a disk: the system's own directories, the
 * directories that hold everyone's data (a pool there would list, and a purge
 * delete, files of others), secrets, and kvmctl's own state. Checked on the
 * path as given and, for a path on this machine, with its symlinks resolved.
 */

/** The directory and everything under it belong to the system or to root. */
export const SYSTEM_ROOTS = [
  '/etc', '/dev', '/proc', '/sys', '/boot', '/usr', '/run', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32',
  '/root', '/var/lib/dpkg', '/var/lib/apt', '/var/cache/apt', '/var/spool', '/var/mail', '/var/backups', '/var/lib/kvmctl',
];

/** Directories that hold other directories (users', services'): each is refused itself, what is below may be used. */
export const SHARED_PARENTS = ['/', '/home', '/var', '/var/lib', '/var/cache', '/var/log', '/var/tmp', '/tmp', '/srv', '/opt', '/mnt', '/media', '/var/lib/libvirt'];

/** Path components that hold keys and credentials wherever they are. */
const SECRET_COMPONENTS = ['.ssh', '.gnupg'];

export function isWithin(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(root + '/');
}

/**
 * Why `path` (absolute, in normal form) is a place kvmctl must not use, or
 * undefined. `stateDir` is kvmctl's own state directory.
 */
export function systemPlace(path: string, stateDir?: string): string | undefined {
  const root = SYSTEM_ROOTS.find((r) => isWithin(path, r));
  if (root) return `it is inside ${root}, a system directory`;
  if (SHARED_PARENTS.includes(path)) return path === '/' ? 'it is the root directory' : `it is ${path} itself, which holds other directories`;
  if (/^\/home\/[^/]+$/.test(path)) return `it is the home directory ${path} itself`;
  const secret = path.split('/').find((c) => SECRET_COMPONENTS.includes(c));
  if (secret) return `it is inside a ${secret} directory, which holds keys`;
  if (stateDir && (isWithin(path, stateDir) || isWithin(stateDir, path))) return `it holds kvmctl's own state (${stateDir})`;
  return undefined;
}

/**
 * Why a file may not be a VM disk, or undefined: files in the system's and
 * root's directories and in key directories (for a read-only CD-ROM, /usr is allowed). Block devices are judged by what
 * uses them (deviceUses), so /dev itself is not refused here.
 */
export function systemFile(path: string, stateDir?: string, readOnly = false): string | undefined {
  if (path.startsWith('/dev/')) return undefined;
  // Packages ship install media under /usr/share (virtio-win, for one): readable by everyone, and a CD-ROM is never written.
  const root = SYSTEM_ROOTS.find((r) => isWithin(path, r) && !(readOnly && r === '/usr'));
  if (root) return `it is inside ${root}, a system directory`;
  const secret = path.split('/').find((c) => SECRET_COMPONENTS.includes(c));
  if (secret) return `it is inside a ${secret} directory, which holds keys`;
  if (stateDir && isWithin(path, stateDir)) return `it is in kvmctl's own state directory (${stateDir})`;
  return undefined;
}
