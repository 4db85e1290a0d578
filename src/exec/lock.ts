/**
 * Per-object locks so that two kvmctl processes creating the same thing at once
 * do not interleave: the second waits, then finds the object already there.
 * A lock is a file created with O_EXCL holding the owner's pid, the start time
 * of that process, the key and the owner's command line. A lock whose owner is
 * gone (killed), or whose pid now belongs to a process that started at another
 * time (the pid was reused), is taken over.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, TimeoutError } from '../errors.js';
import { formatCommand } from './command.js';

export interface LockOptions {
  dir: string;
  /** Give up after this long (exit 6). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told once, after a short wait, who holds the lock. */
  onWait?: (message: string) => void;
  /** The command line recorded as the holder's (default: this process's). */
  argv?: string[];
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

/**
 * When a process started, in clock ticks after boot: field 22 of
 * /proc/PID/stat (proc(5)). The fields are counted after the last ')', since
 * the command name in field 2 may hold spaces and parentheses.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether pid is still the process that was recorded: alive and, when a start
 * time was recorded and /proc can tell, started at that time. A pid that was
 * reused by another program after its holder died is not.
 */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

export interface LockHolder {
  pid: number;
  startTime?: string;
  key: string;
  argv?: string[];
}

export function parseLockFile(text: string): LockHolder | undefined {
  const [pid, key, startTime, argv] = text.split('\n');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  let args: string[] | undefined;
  try {
    args = argv ? (JSON.parse(argv) as string[]) : undefined;
  } catch {
    args = undefined;
  }
  return { pid: n, key: key ?? '', startTime: startTime || undefined, argv: Array.isArray(args) ? args : undefined };
}

function describeHolder(h: LockHolder): string {
  const started = h.startTime !== undefined ? `, started ${h.startTime} ticks after boot` : '';
  const command = h.argv ? `: ${formatCommand({ program: 'kvmctl', args: h.argv })}` : '';
  return `pid ${h.pid}${started}${command}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long to wait quietly before saying who holds the lock. */
const QUIET_WAIT_MS = 1000;

/** Runs fn while holding the lock named by key (e.g. "qemu:///system vm web1"). */
export async function withLock<T>(key: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const dir = join(options.dir, 'locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, createHash('sha256').update(key).digest('hex').slice(0, 32) + '.lock');
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 120_000);
  const me = [String(process.pid), key, processStartTime(process.pid) ?? '', JSON.stringify(options.argv ?? process.argv.slice(2))].join('\n') + '\n';
  let told = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(me);
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const text = await readFile(file, 'utf8').catch(() => '');
      const holder = parseLockFile(text);
      if (holder && !isSameProcess(holder.pid, holder.startTime)) {
        // Remove only the file that was read: another waiter may have taken it over meanwhile.
        if ((await readFile(file, 'utf8').catch(() => '')) === text) await unlink(file).catch(() => undefined);
        continue;
      }
      const who = holder ? describeHolder(holder) : 'a process that has not written its pid yet';
      if (options.signal?.aborted) throw new InterruptedError(`interrupted while waiting for another kvmctl working on ${key} (${who})`);
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `another kvmctl process (${who}) is still working on ${key}`,
          holder ? `wait for it to finish, or check it with: ps -o pid,lstart,args -p ${holder.pid}` : 'run this again in a moment',
        );
      }
      if (!told && Date.now() - started >= QUIET_WAIT_MS) {
        told = true;
        options.onWait?.(`waiting for another kvmctl working on ${key} (${who})`);
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
