// Loads dist/kvmctl.cjs with a V8 code cache beside it (dist/kvmctl.cjs.cache), so
// a run deserializes compiled code instead of parsing and compiling ~0.5 MB of
// JavaScript. Node 20 has no compile cache for modules; vm.Script takes one.
//
// The cache file starts with a SHA-256 of the bundle and the Node version it was
// made for: V8 itself checks only the source's length, so the digest keeps a stale
// cache from being used with a rebuilt bundle. A cache that is missing, stale or
// for another Node version costs only the compile, and is replaced after the run
// when the directory is writable. One V8 rejects for other reasons (the run's V8
// flags differ) is left as it is, so such runs do not take turns rewriting it.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

const DIGEST_BYTES = 32;

export function cachePathOf(bundlePath) {
  return `${bundlePath}.cache`;
}

/**
 * Evaluates the CommonJS bundle; returns its exports and what became of the cache:
 * 'used', 'absent' (no cache for this bundle and Node) or 'rejected' (by V8).
 */
export function loadBundle(bundlePath) {
  // The bundle is ASCII (esbuild escapes the rest; scripts/build.mjs checks it): read as latin1, it becomes
  // V8's one-byte string without a UTF-8 decode, the same text, about 1.5 ms sooner.
  const source = readFileSync(bundlePath, 'latin1');
  const digest = createHash('sha256').update(process.version).update('\0').update(source).digest();
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
  const cache = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used';
  return { exports: module.exports, script, digest, cache };
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
