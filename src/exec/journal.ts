/**
 * The journal of unfinished operations: while a Transaction has created
 * something, a file names what and how to remove it. A run that ends normally
 * deletes it; one killed outright (SIGKILL) leaves it, and the next kvmctl run
 * reports it (`kvmctl host doctor`).
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isSameProcess, processStartTime } from './lock.js';

export interface JournalEntry {
  pid: number;
  /** The process's start time (/proc/PID/stat), so a reused pid is not taken for it. */
  pidStartTime?: string;
  startedAt: string;
  operation: string;
  argv: string[];
  leftovers: Array<{ what: string; manual: string }>;
}

export class Journal {
  private readonly file: string;
  private readonly startedAt = new Date().toISOString();
  /** Read at the first record(): a run that records nothing (every read command, each host of -H) never reads /proc. */
  private pidStartTime: string | undefined | null = null;

  constructor(
    private readonly dir: string,
    private readonly argv: string[],
  ) {
    this.file = join(dir, 'journal', `${process.pid}-${Date.now()}.json`);
  }

  /** Synchronous on purpose: the entry must be on disk before the next step can be killed. */
  record(operation: string, leftovers: Array<{ what: string; manual: string }>): void {
    if (this.pidStartTime === null) this.pidStartTime = processStartTime(process.pid);
    const entry: JournalEntry = { pid: process.pid, ...(this.pidStartTime !== undefined ? { pidStartTime: this.pidStartTime } : {}), startedAt: this.startedAt, operation, argv: this.argv, leftovers };
    mkdirSync(join(this.dir, 'journal'), { recursive: true, mode: 0o700 });
    // Write then rename, so a reader never sees half an entry.
    writeFileSync(this.file + '.tmp', JSON.stringify(entry, null, 2) + '\n', { mode: 0o600 });
    renameSync(this.file + '.tmp', this.file);
  }

  clear(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // Nothing was recorded.
    }
  }
}

/** Entries whose process is gone: operations that were killed midway. */
export async function abandonedEntries(dir: string): Promise<Array<JournalEntry & { file: string }>> {
  const jdir = join(dir, 'journal');
  const names = await readdir(jdir).catch(() => [] as string[]);
  const out: Array<JournalEntry & { file: string }> = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(jdir, name);
    try {
      const entry = JSON.parse(await readFile(file, 'utf8')) as JournalEntry;
      if (!isSameProcess(entry.pid, entry.pidStartTime)) out.push({ ...entry, file });
    } catch {
      continue;
    }
  }
  return out;
}

export async function forgetEntry(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}
