/** bin/bundle-loader.mjs: the npm build's V8 code cache is used only with the bundle it was made from. */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachePathOf, loadBundle, saveCodeCache } from '../../bin/bundle-loader.mjs';

const bundleSource = (answer: string) => `exports.answer = function answer() { return ${JSON.stringify(answer)}; };\nexports.dir = __dirname;\n`;

describe('bundle loader', () => {
  let dir: string;
  let bundle: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvmctl-loader-'));
    bundle = join(dir, 'kvmctl.cjs');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const answer = (loaded: ReturnType<typeof loadBundle>) => (loaded.exports.answer as () => string)();

  it('runs the bundle as CommonJS without a cache, then with the cache it saved', () => {
    writeFileSync(bundle, bundleSource('one'));
    const first = loadBundle(bundle);
    expect(first.cache).toBe('absent');
    expect(answer(first)).toBe('one');
    expect(first.exports.dir).toBe(dir);
    saveCodeCache(bundle, first);
    expect(existsSync(cachePathOf(bundle))).toBe(true);
    const second = loadBundle(bundle);
    expect(second.cache).toBe('used');
    expect(answer(second)).toBe('one');
  });

  it('ignores a cache made from another bundle of the same length', () => {
    writeFileSync(bundle, bundleSource('old'));
    saveCodeCache(bundle, loadBundle(bundle));
    writeFileSync(bundle, bundleSource('new'));
    const loaded = loadBundle(bundle);
    expect(loaded.cache).toBe('absent');
    expect(answer(loaded)).toBe('new');
  });

  it('ignores a damaged cache file', () => {
    writeFileSync(bundle, bundleSource('one'));
    writeFileSync(cachePathOf(bundle), 'not a cache');
    const loaded = loadBundle(bundle);
    expect(loaded.cache).toBe('absent');
    expect(answer(loaded)).toBe('one');
  });

  const digestOf = (source: string) => createHash('sha256').update(process.version).update('\0').update(source).digest();

  it('reports a cache for this bundle that V8 refuses as rejected, and still runs the bundle', () => {
    // A source this process has not compiled yet, or V8's own in-memory cache would answer first.
    const source = bundleSource(`rejected-${Date.now()}`);
    writeFileSync(bundle, source);
    // The right digest, then data V8 cannot take (as after a change of V8 flags).
    writeFileSync(cachePathOf(bundle), Buffer.concat([digestOf(source), Buffer.alloc(512, 7)]));
    const loaded = loadBundle(bundle);
    expect(loaded.cache).toBe('rejected');
    expect(answer(loaded)).toMatch(/^rejected-/);
  });

  it('keys the cache to the Node version as well as the bundle', () => {
    writeFileSync(bundle, bundleSource('one'));
    expect(loadBundle(bundle).digest.equals(digestOf(bundleSource('one')))).toBe(true);
  });

  it('writes nothing when it cannot create its temporary file, and the run goes on', () => {
    writeFileSync(bundle, bundleSource('one'));
    const loaded = loadBundle(bundle);
    // Another file already holds the name (as a read-only directory would refuse it for a non-root user).
    const temp = `${cachePathOf(bundle)}.${process.pid}.tmp`;
    writeFileSync(temp, 'someone else');
    saveCodeCache(bundle, loaded);
    expect(existsSync(cachePathOf(bundle))).toBe(false);
    expect(readFileSync(temp, 'utf8')).toBe('someone else');
    expect(answer(loaded)).toBe('one');
  });

  it('keeps the digest of the bundle at the head of the cache file', () => {
    writeFileSync(bundle, bundleSource('one'));
    const loaded = loadBundle(bundle);
    saveCodeCache(bundle, loaded);
    expect(readFileSync(cachePathOf(bundle)).subarray(0, 32).equals(loaded.digest)).toBe(true);
  });
});
