/**
 * Per-object locks so that two kvmctl processes creating the same thing at once
 * do not interleave: the second waits, then finds the object already there.
 * A lock is a file created with O_EXCL holding the owner's pid; a lock whose
 * owner is gone (killed) is taken over.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, TimeoutError } from '../errors.js';

export interface LockOptions {
  dir: string;
  /** Give up after this long (exit 6). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Whether a process exists (EPERM: it does, but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs fn while holding the lock named by key (e.g. "qemu:///system vm web1"). */
export async function withLock<T>(key: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const dir = join(options.dir, 'locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, createHash('sha256').update(key).digest('hex').slice(0, 32) + '.lock');
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n${key}\n`);
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
      if (Number.isInteger(owner) && owner > 0 && !isProcessAlive(owner)) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (options.signal?.aborted) throw new InterruptedError(`interrupted while waiting for another kvmctl working on ${key}`);
      if (Date.now() > deadline) {
        throw new TimeoutError(`another kvmctl process (pid ${owner}) is still working on ${key}`, `wait for it to finish, or check it with: ps -p ${owner}`);
      }
      await sleep(50 + Math.random() * 100);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
