/**
 * One image download into a partial file that survives a cut connection,
 * Ctrl-C or SIGHUP: the next run asks only for the rest (a Range request,
 * guarded by If-Range so a changed file starts over). The digest is computed
 * while the bytes arrive; only a resumed run reads back the part it already has.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InterruptedError, KvmctlError, RefusedError } from '../errors.js';
import type { Digest, DigestAlgorithm } from './checksum.js';
import { NO_FOLLOW_WRITE, writeFileNoFollow } from './store.js';
import { describeNetworkError, discardBody, failForStatus, httpGet, HttpError, type Response } from './http.js';

export interface PartialState {
  url: string;
  /** ETag or Last-Modified of the response the partial file holds the start of. */
  validator?: string;
  totalBytes?: number;
}

export interface DownloadRequest {
  /** What the user asked for, for messages ("image pull default/debian-12.qcow2"). */
  what: string;
  url: string;
  partPath: string;
  /** Where the partial file's origin is recorded (URL, validator, size). */
  statePath: string;
  algorithm: DigestAlgorithm;
  signal: AbortSignal;
  /** Called with the full size, when the server says it, before anything is written. */
  checkSize?: (totalBytes: number) => void;
  onProgress?: (doneBytes: number, totalBytes: number | undefined) => void;
  /** Makes the digest; the benchmark swaps in one that does nothing, to show what verifying costs. */
  newHash?: (algorithm: DigestAlgorithm) => Hasher;
}

/** The part of node:crypto's Hash a download uses. */
export interface Hasher {
  update(chunk: Buffer): unknown;
  digest(encoding: 'hex'): string;
}

export interface DownloadResult {
  digest: Digest;
  bytes: number;
  /** Bytes already there from an earlier, interrupted run. */
  resumedFromBytes: number;
  /** The URL that served the bytes, after redirects. */
  finalUrl: string;
}

async function readState(path: string): Promise<PartialState | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartialState;
  } catch {
    return undefined;
  }
}

async function writeState(path: string, s: PartialState): Promise<void> {
  const tmp = `${path}.new`;
  await writeFileNoFollow(tmp, JSON.stringify(s) + '\n', 0o600);
  await rename(tmp, path);
}

async function sizeOf(path: string): Promise<number> {
  try {
    const s = await lstat(path);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}

async function hashExisting(path: string, hash: Hasher): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

/** bytes START-END/TOTAL */
function parseContentRange(text: string | undefined): { start: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

function lengthOf(res: Response): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Each socket read arrives in a fresh 64 KiB buffer, freed only when V8 collects
 * its wrapper; V8 counts such memory as external and collects late, so at
 * loopback speed some 40 MiB of spent chunks pile up. A young-generation
 * collection every few MiB (well under a millisecond: it finds only those
 * wrappers) keeps the peak flat. Set up on the first download; null where V8 refuses.
 */
let collectYoung: (() => void) | null | undefined;
function youngCollector(): (() => void) | null {
  if (collectYoung === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
      collectYoung = () => gc({ type: 'minor' });
    } catch {
      collectYoung = null;
    }
  }
  return collectYoung;
}
const COLLECT_EVERY_BYTES = 8 << 20;

export async function download(r: DownloadRequest): Promise<DownloadResult> {
  const newHash: (algorithm: DigestAlgorithm) => Hasher = r.newHash ?? ((a) => createHash(a));
  const state = await readState(r.statePath);
  let offset = state?.url === r.url ? await sizeOf(r.partPath) : 0;
  const rangeHeaders: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-`, ...(state?.validator ? { 'if-range': state.validator } : {}) } : {};
  const res = await httpGet(r.what, r.url, rangeHeaders, r.signal);
  let total: number | undefined;
  if (offset > 0 && res.status === 416 && state?.totalBytes === offset) {
    // The earlier run had every byte; it stopped before verifying.
    discardBody(res.body);
    const hash = newHash(r.algorithm);
    await hashExisting(r.partPath, hash);
    return { digest: { algorithm: r.algorithm, hex: hash.digest('hex') }, bytes: offset, resumedFromBytes: offset, finalUrl: res.url };
  }
  if (res.status === 206 && offset > 0) {
    const range = parseContentRange(res.headers['content-range']);
    if (range?.start !== offset) {
      discardBody(res.body);
      throw new HttpError(`${r.what}: ${res.url} answered the resume request with the wrong range (${res.headers['content-range'] ?? 'none'})`, `remove the partial download (${r.partPath}) and pull again`);
    }
    total = range.total;
  } else if (res.status === 200) {
    offset = 0; // A full answer: the file changed, or the server does not do ranges.
    total = lengthOf(res);
  } else {
    failForStatus(r.what, res);
  }
  if (total !== undefined && r.checkSize) {
    try {
      r.checkSize(total);
    } catch (e) {
      discardBody(res.body);
      throw e;
    }
  }
  let out: FileHandle;
  try {
    out = await open(r.partPath, NO_FOLLOW_WRITE | (offset > 0 ? constants.O_APPEND : constants.O_TRUNC), 0o600);
  } catch (e) {
    discardBody(res.body);
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new RefusedError(`${r.what}: ${r.partPath} is a symlink; kvmctl does not write through it`, `look at it, and remove it if nothing needs it: rm ${r.partPath}`);
    }
    throw e;
  }
  await writeState(r.statePath, { url: r.url, validator: res.headers.etag ?? res.headers['last-modified'], totalBytes: total });

  const hash = newHash(r.algorithm);
  if (offset > 0) await hashExisting(r.partPath, hash);
  let done = offset;
  let collectAt = done + COLLECT_EVERY_BYTES;
  const collect = youngCollector();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      done += chunk.length;
      if (done >= collectAt && collect) {
        collectAt = done + COLLECT_EVERY_BYTES;
        collect();
      }
      r.onProgress?.(done, total);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, meter, out.createWriteStream(), { signal: r.signal });
  } catch (e) {
    if (r.signal.aborted) throw new InterruptedError(`${r.what}: interrupted after ${done} bytes; the partial download is kept at ${r.partPath}`, 'run the same command again to resume it');
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new RefusedError(`${r.what}: no space left writing ${r.partPath} after ${done} bytes`, 'free space in the pool (or pull into another with --pool), then run the command again to resume');
    }
    if (e instanceof KvmctlError) throw e;
    throw new HttpError(`${r.what}: the download from ${res.url} broke off after ${done} of ${total ?? 'unknown'} bytes: ${describeNetworkError(e)}`, `run the same command again: it resumes from byte ${done}`, { cause: e });
  }
  if (total !== undefined && done !== total) {
    throw new HttpError(`${r.what}: ${res.url} ended after ${done} of the ${total} bytes it announced`, `run the same command again: it resumes from byte ${done}`);
  }
  return { digest: { algorithm: r.algorithm, hex: hash.digest('hex') }, bytes: done, resumedFromBytes: offset, finalUrl: res.url };
}
