/**
 * The parsed hosts inventory, kept in kvmctl's state directory
 * (`inventory-cache.json`) so that `-H` does not parse the YAML on every run: a
 * cold YAML parse costs more than a host's share of the rest of the fan-out.
 *
 * The entry names the file by its identity: path, device, inode, size, mtime and
 * ctime, in nanoseconds. Any write to the file (an editor, `host add`'s rename,
 * a restored backup) gives it a new ctime or inode, and a user cannot set ctime,
 * so a changed file never matches. File timestamps advance in coarse ticks, so
 * two writes close together can leave the same times; a file changed in the last
 * RACY_NS is therefore not cached (git treats its index the same way), and a
 * later write is always a tick apart from the one cached.
 *
 * What is cached is the checked inventory written back as plain data: it is
 * checked again when read; one that is damaged, or cannot be read or written, is
 * only a cache miss.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

const FILE = 'inventory-cache.json';
const VERSION = 1;
/** A file changed this recently (ns) may change again within the same timestamp tick. */
const RACY_NS = 2_000_000_000n;

interface Entry {
  version: number;
  key: string;
  data: unknown;
}

function keyOf(path: string, st: BigIntStats): string {
  return [path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('\0');
}

/** The cached data for this file as it is now, or undefined. */
export function cachedInventoryData(dir: string, path: string, st: BigIntStats): unknown {
  let entry: Entry;
  try {
    entry = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Entry;
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object' || entry.version !== VERSION || entry.key !== keyOf(path, st)) return undefined;
  return entry.data;
}

/** Keeps the data for this file, unless the file changed too recently to be told apart from its next version. */
export function saveInventoryData(dir: string, path: string, st: BigIntStats, data: unknown, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): void {
  if (nowNs - st.mtimeNs < RACY_NS || nowNs - st.ctimeNs < RACY_NS) return;
  const entry: Entry = { version: VERSION, key: keyOf(path, st), data };
  const target = join(dir, FILE);
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let written = false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // wx: never through a link or onto a file that is already there.
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
    written = true;
    // Renamed into place: a concurrent run reads the old entry or the new one.
    renameSync(temp, target);
  } catch {
    // A state directory that cannot be written costs only the parse next time.
    if (written) rmSync(temp, { force: true });
  }
}
