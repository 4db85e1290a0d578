/**
 * Small JSON records of what kvmctl changed in a network namespace, so a later
 * command can undo exactly that. Links, addresses and sysctls belong to a
 * namespace, so each record is keyed by the namespace's inode.
 */
import { mkdir, readFile, readlink, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action } from '../exec/plan.js';

export interface NetnsRecord<T> {
  /** Where the record lives, for messages. */
  readonly location: string;
  /** The namespace's inode, e.g. to name a lock. */
  readonly netnsId: string;
  load(): Promise<T>;
  /** Writes the record; an empty one removes the file. */
  save(value: T): Promise<void>;
  /** The same write as a plan action, so a verb records its change as one of its steps (and --dry-run prints it). */
  saveAction(value: T): Action;
}

/** "net:[4026531840]" (the link /proc/self/ns/net points to) -> "4026531840". */
export function netnsIdFromLink(link: string): string {
  const m = /^net:\[(\d+)\]$/.exec(link.trim());
  if (!m?.[1]) throw new Error(`unexpected network namespace link ${JSON.stringify(link)}`);
  return m[1];
}

export async function currentNetnsId(): Promise<string> {
  return netnsIdFromLink(await readlink('/proc/self/ns/net'));
}

/** The record `name` of a namespace as DIR/net/NAME-netns-INODE.json. */
export function fileNetnsRecord<T>(dir: string, netnsId: string, name: string, empty: () => T, isEmpty: (v: T) => boolean): NetnsRecord<T> {
  const file = join(dir, 'net', `${name}-netns-${netnsId}.json`);
  return {
    location: file,
    netnsId,
    async load() {
      try {
        return { ...empty(), ...(JSON.parse(await readFile(file, 'utf8')) as Partial<T>) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return empty();
        throw e;
      }
    },
    saveAction(value) {
      return isEmpty(value) ? { remove: file } : { write: { path: file, text: recordText(value) } };
    },
    async save(value) {
      if (isEmpty(value)) {
        await unlink(file).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
        return;
      }
      await mkdir(join(dir, 'net'), { recursive: true, mode: 0o700 });
      // Write then rename, so a crash never leaves half a record.
      await writeFile(file + '.tmp', recordText(value), { mode: 0o600 });
      await rename(file + '.tmp', file);
    },
  };
}

function recordText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** The record `name` of the namespace this process runs in. */
export async function currentNetnsRecord<T>(dir: string, name: string, empty: () => T, isEmpty: (v: T) => boolean): Promise<NetnsRecord<T>> {
  return fileNetnsRecord(dir, await currentNetnsId(), name, empty, isEmpty);
}
