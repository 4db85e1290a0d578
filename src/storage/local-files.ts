/**
 * Reads of local files that storage commands make without a subprocess: an
 * image's first bytes, sizes, and where a path really leads. Nothing here
 * writes; every change to a file goes through the Runner so --dry-run shows it.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

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
  async resolve(path) {
    // Resolve the deepest part that exists; the rest cannot be a symlink yet.
    let head = path;
    const tail: string[] = [];
    for (;;) {
      try {
        return join(await realpath(head), ...tail.reverse());
      } catch {
        const parent = dirname(head);
        if (parent === head) return path;
        tail.push(basename(head));
        head = parent;
      }
    }
  },
};
