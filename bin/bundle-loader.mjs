// Loads dist/kvmctl.cjs with a V8 code cache beside it (dist/kvmctl.cjs.cache), so
// a run deserializes compiled code instead of parsing and compiling ~0.5 MB of
// JavaScript. Node 20 has no compile cache for modules; vm.Script takes one.
//
// The cache file is the SHA-256 of the bundle followed by V8's data: V8 checks only
// the source's length, so the digest keeps a stale cache from being used with a
// rebuilt bundle. A missing, stale or rejected cache (another Node version) costs
// only the compile, and is replaced after the run when the directory is writable.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

const DIGEST_BYTES = 32;

export function cachePathOf(bundlePath) {
  return `${bundlePath}.cache`;
}

/** Evaluates the CommonJS bundle; returns its exports and what became of the cache. */
export function loadBundle(bundlePath) {
  const source = readFileSync(bundlePath, 'utf8');
  const digest = createHash('sha256').update(source).digest();
  let cachedData;
  try {
    const file = readFileSync(cachePathOf(bundlePath));
    if (file.subarray(0, DIGEST_BYTES).equals(digest)) cachedData = file.subarray(DIGEST_BYTES);
  } catch {
    // No cache yet: compile.
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, { filename: bundlePath, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return { exports: module.exports, script, digest, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/** Writes the cache of what has been compiled so far; atomically, so a concurrent run reads the old or the new file. */
export function saveCodeCache(bundlePath, loaded) {
  const target = cachePathOf(bundlePath);
  const temp = `${target}.${process.pid}.tmp`;
  let fd;
  try {
    // Opened before the cache is serialized: a read-only install pays nothing for trying.
    fd = openSync(temp, 'wx', 0o644);
  } catch {
    return;
  }
  try {
    writeSync(fd, Buffer.concat([loaded.digest, loaded.script.createCachedData()]));
    closeSync(fd);
    renameSync(temp, target);
  } catch {
    rmSync(temp, { force: true });
  }
}
