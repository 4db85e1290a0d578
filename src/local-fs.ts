import { access, constants, readFile } from 'node:fs/promises';

/** Reads of local files (/proc, /sys, /dev) that kvmctl makes without a subprocess. */
export interface LocalFs {
  /** File contents, or undefined when it does not exist or cannot be read. */
  read(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  /** True when the current user may open the path read-write. */
  canReadWrite(path: string): Promise<boolean>;
}

/** Finds a program on PATH without starting a process. */
export async function findOnPath(fs: LocalFs, program: string, pathEnv: string | undefined): Promise<string | undefined> {
  for (const dir of (pathEnv ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && (await fs.exists(`${dir}/${program}`))) return `${dir}/${program}`;
  }
  return undefined;
}

export const realFs: LocalFs = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  async exists(path) {
    try {
      await access(path, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  },
  async canReadWrite(path) {
    try {
      await access(path, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** A LocalFs over a map of path -> contents, for tests. */
export function memoryFs(files: Record<string, string>, writable: string[] = []): LocalFs {
  return {
    read: async (p) => files[p],
    exists: async (p) => p in files,
    canReadWrite: async (p) => p in files && writable.includes(p),
  };
}
