/**
 * When kvmctl started a domain itself: the time it noted just before it asked
 * libvirt to start it, and the id libvirt gave that run. libvirt reports no
 * start time of a run through its API (not in dominfo, domstats or the live
 * XML), but it numbers each run of a domain with a new id: a record whose id
 * is the domain's current id describes the current run. One file per
 * connection URI and domain uuid under the state directory, so two kvmctl
 * processes starting two VMs never rewrite each other's record.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BootRecord {
  /** libvirt's id of the run kvmctl started. */
  id: number;
  /** Noted before the start was asked for: the run began at or after it (milliseconds since the epoch). */
  startedAtMs: number;
}

function recordFile(stateDir: string, uri: string, uuid: string): string {
  const host = createHash('sha256').update(uri).digest('hex').slice(0, 16);
  return join(stateDir, 'boots', `${host}-${uuid.toLowerCase()}.json`);
}

/** The record of the domain's run kvmctl started last on this URI; undefined when there is none (or it cannot be read). */
export async function readBootRecord(stateDir: string, uri: string, uuid: string): Promise<BootRecord | undefined> {
  try {
    const v = JSON.parse(await readFile(recordFile(stateDir, uri, uuid), 'utf8')) as Partial<BootRecord>;
    return Number.isInteger(v.id) && Number.isFinite(v.startedAtMs) ? { id: v.id!, startedAtMs: v.startedAtMs! } : undefined;
  } catch {
    return undefined;
  }
}

export async function writeBootRecord(stateDir: string, uri: string, uuid: string, record: BootRecord): Promise<void> {
  const file = recordFile(stateDir, uri, uuid);
  await mkdir(join(stateDir, 'boots'), { recursive: true, mode: 0o700 });
  // Write then rename, so a reader never sees half a record.
  await writeFile(`${file}.${process.pid}.tmp`, JSON.stringify(record) + '\n', { mode: 0o600 });
  await rename(`${file}.${process.pid}.tmp`, file);
}
