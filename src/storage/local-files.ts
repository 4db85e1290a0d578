/**
 * Reads of local files that storage commands make without a subprocess: an
 * image's first bytes, sizes, and where a path really leads. Nothing here
 * writes; every change to a file goes through the Runner so --dry-run shows it.
 */
import { open, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export interface FileFacts {
  kind: 'file' | 'directory' | 'block' | 'other';
  /** Apparent size in bytes. */
  sizeBytes: number;
  /** Bytes allocated on disk (st_blocks * 512). */
  allocatedBytes: number;
}

export interface StorageFiles {
  /** Up to `length` leading bytes. */
  header(path: string, length: number): Promise<Buffer>;
  /** undefined when the path does not exist (follows symlinks). */
  stat(path: string): Promise<FileFacts | undefined>;
  /** The path with every symlink resolved, for its longest existing prefix. */
  resolve(path: string): Promise<string>;
  /**
   * What on this host uses a block device or one of its partitions: mounts,
   * swap, holders (LVM, MD RAID, dm-crypt). Empty for anything else.
   */
  deviceUses(path: string): Promise<string[]>;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Linux's dev_t split into "major:minor", as /proc/self/mountinfo and /sys/dev/block name devices. */
function devNumber(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  return `${major}:${minor}`;
}

export const realStorageFiles: StorageFiles = {
  async header(path, length) {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  },
  async stat(path) {
    try {
      const s = await stat(path);
      return {
        kind: s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isBlockDevice() ? 'block' : 'other',
        sizeBytes: s.size,
        allocatedBytes: s.blocks * 512,
      };
    } catch {
      return undefined;
    }
  },
  async deviceUses(path) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isBlockDevice()) return [];
    const self = devNumber(st.rdev);
    const sysDir = `/sys/dev/block/${self}`;
    // The device and its partitions (subdirectories with a "partition" file), each as major:minor.
    const parts: Array<{ name: string; dev: string; dir: string }> = [{ name: basename(path), dev: self, dir: sysDir }];
    for (const e of await entries(sysDir)) {
      if ((await readText(join(sysDir, e, 'partition'))) !== '') parts.push({ name: e, dev: (await readText(join(sysDir, e, 'dev'))).trim(), dir: join(sysDir, e) });
    }
    const mounts = (await readText('/proc/self/mountinfo')).split('\n').map((l) => l.split(' ')).filter((f) => f.length > 4);
    const swaps = (await readText('/proc/swaps')).split('\n').slice(1).map((l) => l.split(/\s+/)[0] ?? '').filter((p) => p !== '');
    const swapDevs = new Set<string>();
    for (const s of swaps) {
      const sw = await stat(s).catch(() => undefined);
      if (sw?.isBlockDevice()) swapDevs.add(devNumber(sw.rdev));
    }
    const uses: string[] = [];
    for (const p of parts) {
      const what = p.dev === self ? 'it' : `its partition ${p.name}`;
      const at = mounts.filter((f) => f[2] === p.dev).map((f) => f[4]!.replace(/\\040/g, ' '));
      if (at.length > 0) uses.push(`${what} is mounted at ${[...new Set(at)].join(', ')}`);
      if (swapDevs.has(p.dev)) uses.push(`${what} is in use as swap`);
      const holders = await entries(join(p.dir, 'holders'));
      if (holders.length > 0) uses.push(`${what} is held by ${holders.join(', ')} (LVM, RAID or encryption)`);
    }
    return uses;
  },
  async resolve(path) {
    return resolvePath(path, 0);
  },
};

/** Symlinks followed before a path is taken to loop (the kernel's own limit). */
const MAX_LINKS = 40;

/**
 * The path with every symlink resolved: realpath for the deepest part that
 * exists, and a dangling symlink followed to where it points, though its
 * target does not exist yet (a link to /root/.ssh names /root/.ssh whether or
 * not that directory is there). A loop is left as it is written.
 */
async function resolvePath(path: string, links: number): Promise<string> {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail.reverse());
    } catch {
      const target = await readlink(head).catch(() => undefined);
      if (target !== undefined) {
        if (links >= MAX_LINKS) return path;
        const parent = await resolvePath(dirname(head), links + 1);
        return resolvePath(join(resolve(parent, target), ...tail.reverse()), links + 1);
      }
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(basename(head));
      head = parent;
    }
  }
}
