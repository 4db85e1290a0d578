/**
 * Where a pulled image's facts live: a hidden folder beside the images in the
 * pool's directory, holding NAME.json (source, digest, when pulled) and, while
 * a download is unfinished, NAME.part with NAME.part.json (what it is the
 * start of). The image file itself is published read-only and never written again.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { RefusedError, UsageError } from '../errors.js';

export const IMAGE_DIR = '.kvmctl-images';

export interface ImageRecord {
  name: string;
  pool: string;
  path: string;
  /** The URL asked for. */
  source: string;
  /** The catalog name it was pulled by, if any. */
  catalogName?: string;
  digest: string;
  sizeBytes: number;
  format: string;
  pulledAt: string;
}

export interface ImagePaths {
  dir: string;
  meta: string;
  part: string;
  partState: string;
}

export function imagePaths(poolDir: string, name: string): ImagePaths {
  const dir = posix.join(poolDir, IMAGE_DIR);
  return { dir, meta: posix.join(dir, `${name}.json`), part: posix.join(dir, `${name}.part`), partState: posix.join(dir, `${name}.part.json`) };
}

const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** An image's volume name: one plain file name (no '/', '..', hidden or option-like names, no metacharacters). */
export function validateImageName(what: string, name: string): string {
  if (!IMAGE_NAME.test(name)) {
    throw new UsageError(`invalid image name ${JSON.stringify(name)} (${what})`, "give --name with letters, digits, '.', '_', '+' and '-', starting with a letter or digit");
  }
  return name;
}

export async function readImageRecord(poolDir: string, name: string): Promise<ImageRecord | undefined> {
  try {
    return JSON.parse(await readFile(imagePaths(poolDir, name).meta, 'utf8')) as ImageRecord;
  } catch {
    return undefined;
  }
}

/** Every image record of a pool directory: file reads only, no subprocess. */
export async function readImageRecords(poolDir: string): Promise<ImageRecord[]> {
  const dir = posix.join(poolDir, IMAGE_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const records = await Promise.all(
    names.filter((n) => n.endsWith('.json') && !n.endsWith('.part.json')).map((n) => readImageRecord(poolDir, n.slice(0, -'.json'.length))),
  );
  return records.filter((r): r is ImageRecord => r !== undefined);
}

/** Flags that never follow a symlink planted where kvmctl writes. */
export const NO_FOLLOW_WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;

/** Writes a small file (a record) without following a symlink at its path. */
export async function writeFileNoFollow(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, NO_FOLLOW_WRITE | constants.O_TRUNC, mode);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/** The images folder must be a real directory of its own, not a symlink to elsewhere. */
export async function checkImageDir(dir: string): Promise<void> {
  const s = await lstat(dir);
  if (s.isSymbolicLink() || !s.isDirectory()) {
    throw new RefusedError(`${dir} is ${s.isSymbolicLink() ? 'a symlink' : 'not a directory'}; kvmctl keeps partial downloads and image records only in a directory of its own there`, `look at it, and remove it if nothing needs it: rm ${dir}`);
  }
}
