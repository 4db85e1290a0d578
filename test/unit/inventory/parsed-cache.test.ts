/**
 * The parsed inventory kept in the state directory: used while the file is the
 * same, never after any write to it, never for a file changed too recently to be
 * told apart from its next version; a damaged or unwritable cache is a miss.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/hosts-file.js';

const root = mkdtempSync(join(tmpdir(), 'kvmctl-invcache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TWO = 'hosts:\n  a: {uri: "qemu+tcp://a/system", labels: {rack: 1}}\n  b: {uri: "qemu+tcp://b/system", migrationAddress: 10.0.0.2}\ngroups:\n  g: [b]\n';
const OTHER = 'hosts:\n  c: {uri: "qemu+tcp://c/system", labels: {rack: 2}}\n  d: {uri: "qemu+tcp://d/system", migrationAddress: 10.0.0.4}\ngroups:\n  g: [c]\n';
const INVALID = 'hosts:\n  a: {uri: 5}\n';

function setup(name: string, text: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  const file = join(dir, 'hosts.yaml');
  writeFileSync(file, text);
  const state = join(dir, 'state');
  return { file, state, cache: join(state, 'inventory-cache.json') };
}

const fresh = setup('fresh', TWO);
const exact = setup('exact', TWO);
const hit = setup('hit', TWO);
const damaged = setup('damaged', TWO);
const unwritable = setup('unwritable', TWO);
const invalid = setup('invalid', INVALID);
// Entries are written only for a file whose mtime and ctime are 2 s old: wait that out once.
beforeAll(() => new Promise((r) => setTimeout(r, 2100)), 10_000);

const names = async (t: { file: string; state: string }) => (await loadInventory(t.file, { cacheDir: t.state })).hosts.map((h) => h.name);

describe('the parsed inventory cache', () => {
  it('is not written for a file changed in the last 2 s; the result is the same as without a cache', async () => {
    writeFileSync(fresh.file, TWO);
    const withCache = await loadInventory(fresh.file, { cacheDir: fresh.state });
    expect(existsSync(fresh.cache)).toBe(false);
    expect(withCache).toEqual(await loadInventory(fresh.file));
    expect(withCache.hosts.map((h) => [h.name, h.labels, h.migrationAddress ?? null, h.groups])).toEqual([
      ['a', { rack: '1' }, null, []],
      ['b', {}, '10.0.0.2', ['g']],
    ]);
  });

  it('is written (mode 0600) for a settled file and gives back exactly what parsing gives', async () => {
    const first = await loadInventory(exact.file, { cacheDir: exact.state });
    expect(statSync(exact.cache).mode & 0o777).toBe(0o600);
    const second = await loadInventory(exact.file, { cacheDir: exact.state });
    expect(second).toEqual(first);
    expect(second).toEqual(await loadInventory(exact.file));
  });

  it('is used while the file is unchanged, and not after the file is rewritten with its old size and mtime', async () => {
    await loadInventory(hit.file, { cacheDir: hit.state });
    // Proof that a hit returns the entry: one edited to name another host.
    const entry = JSON.parse(readFileSync(hit.cache, 'utf8'));
    entry.data = { hosts: { z: { uri: 'qemu+tcp://z/system', labels: {} } }, groups: {} };
    writeFileSync(hit.cache, JSON.stringify(entry));
    expect(await names(hit)).toEqual(['z']);
    // Other content of the same size under the old mtime: the ctime moved, so the file is parsed again.
    const { atime, mtime } = statSync(hit.file);
    expect(OTHER.length).toBe(TWO.length);
    writeFileSync(hit.file, OTHER);
    utimesSync(hit.file, atime, mtime);
    expect(await names(hit)).toEqual(['c', 'd']);
  });

  it('a damaged entry is a miss: the file decides', async () => {
    await loadInventory(damaged.file, { cacheDir: damaged.state });
    const entry = JSON.parse(readFileSync(damaged.cache, 'utf8'));
    entry.data = { hosts: { 'bad name!': { uri: 'not a uri' } } };
    writeFileSync(damaged.cache, JSON.stringify(entry));
    expect(await names(damaged)).toEqual(['a', 'b']);
    writeFileSync(damaged.cache, '{"version": 1, "key": ');
    expect(await names(damaged)).toEqual(['a', 'b']);
  });

  it('a state directory that cannot be written is no error', async () => {
    writeFileSync(unwritable.state, 'a file where the directory would be');
    expect(await names(unwritable)).toEqual(['a', 'b']);
    expect(readFileSync(unwritable.state, 'utf8')).toBe('a file where the directory would be');
  });

  it('an invalid file is refused as without the cache, and leaves no entry', async () => {
    const message = /^hosts inventory .*\/invalid\/hosts\.yaml: host a: uri: must be a libvirt URI$/;
    await expect(loadInventory(invalid.file, { cacheDir: invalid.state })).rejects.toThrow(message);
    await expect(loadInventory(invalid.file)).rejects.toThrow(message);
    expect(existsSync(invalid.cache)).toBe(false);
  });

  it('no file: no hosts, and no entry', async () => {
    const gone = { file: join(root, 'none', 'hosts.yaml'), state: join(root, 'none', 'state') };
    expect(await names(gone)).toEqual([]);
    expect(existsSync(join(gone.state, 'inventory-cache.json'))).toBe(false);
  });
});
