/** Where a path really leads, read from real symlinks in a directory of the test's own. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realStorageFiles } from '../../../src/storage/local-files.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kvmctl-resolve-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('realStorageFiles.resolve', () => {
  it('resolves the part that exists and keeps the rest as written', async () => {
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    expect(await realStorageFiles.resolve(join(dir, 'link', 'not', 'yet'))).toBe(join(dir, 'real', 'not', 'yet'));
    expect(await realStorageFiles.resolve(join(dir, 'absent', 'x'))).toBe(join(dir, 'absent', 'x'));
  });

  it('follows a dangling symlink to where it points, absolute or relative, through more links', async () => {
    symlinkSync('/nonexistent-kvmctl-target/.ssh', join(dir, 'dangling'));
    expect(await realStorageFiles.resolve(join(dir, 'dangling'))).toBe('/nonexistent-kvmctl-target/.ssh');
    expect(await realStorageFiles.resolve(join(dir, 'dangling', 'pools'))).toBe('/nonexistent-kvmctl-target/.ssh/pools');
    symlinkSync('real/missing', join(dir, 'relative'));
    symlinkSync(join(dir, 'relative'), join(dir, 'chain'));
    expect(await realStorageFiles.resolve(join(dir, 'chain', 'x'))).toBe(join(dir, 'real', 'missing', 'x'));
  });

  it('leaves a symlink loop as it is written', async () => {
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    expect(await realStorageFiles.resolve(join(dir, 'loop-a', 'x'))).toBe(join(dir, 'loop-a', 'x'));
  });
});
