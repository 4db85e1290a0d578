import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { newCapacity, parseSizeChange, runVolumeResize } from '../../../../src/commands/volume/resize.js';
import { outcome as codeOf, testContext, virshArgv as virsh } from '../../../support/harness.js';
import { fakeFiles, GiB, poolPath, stubStorage } from '../../../support/storage.js';

const P = poolPath('inuse', 'p');

describe('volume resize', () => {
  it('parses absolute sizes and +growth; negatives and junk are exit 2', () => {
    expect(parseSizeChange('20G')).toEqual({ kind: 'absolute', bytes: 20 * GiB });
    expect(parseSizeChange('+5G')).toEqual({ kind: 'grow', bytes: 5 * GiB });
    expect(newCapacity(GiB, { kind: 'grow', bytes: 1000 })).toBe(GiB + 1024);
    for (const bad of ['-5G', '+0', '+', '5GG', '+-1G']) expect(() => parseSizeChange(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('grows with vol-resize in bytes', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse').stub(virsh('vol-resize', '--pool', 'p', '--vol', 'v', '--capacity', `${7 * GiB}b`), {});
    const { ctx, io } = testContext(runner);
    await runVolumeResize(ctx, 'p/v', '+5G', {});
    runner.verify();
    expect(io.out).toBe('volume p/v grown from 2.0 GiB to 7.0 GiB\n');
  });

  it('a volume that leads out of its pool through a symlink is never resized (exit 5, nothing run)', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse');
    const r = await codeOf(runVolumeResize(testContext(runner).ctx, 'p/v', '+5G', {}, fakeFiles({}, { [`${P}/v`]: '/srv/outside.img' })));
    expect(r).toEqual({ code: 5, message: `volume p/v leads to /srv/outside.img, outside pool p's directory ${P}: kvmctl does not resize a file outside the pool` });
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
  });

  it('shrinking needs --shrink (exit 5), then passes --shrink; the same size is unchanged', async () => {
    const state = 'inuse';
    const r = await codeOf(runVolumeResize(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/v', '1G', {}));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/shrinking p\/v from 2\.0 GiB to 1\.0 GiB would cut off/) });
    const ok = stubStorage(new FakeRunner(), state).stub(virsh('vol-resize', '--pool', 'p', '--vol', 'v', '--capacity', `${GiB}b`, '--shrink'), {});
    await runVolumeResize(testContext(ok).ctx, 'p/v', '1G', { shrink: true });
    ok.verify();
    const same = testContext(stubStorage(new FakeRunner(), state));
    await runVolumeResize(same.ctx, 'p/v', '2G', {});
    expect(same.io.out).toBe('volume p/v is already 2.0 GiB: unchanged\n');
  });

  it('a disk of a running VM grows live through blockresize; shrinking it is refused', async () => {
    const state = 'inuse';
    const live = stubStorage(new FakeRunner(), state)
      .stub(virsh('blockresize', '--domain', 'web', '--path', 'vda', '--size', `${2 * GiB}b`), {})
      .stub(virsh('pool-refresh', '--pool', 'p'), {});
    const { ctx, io } = testContext(live);
    await runVolumeResize(ctx, 'p/web.qcow2', '2G', {});
    live.verify();
    expect(io.out).toMatch(/grown from 1\.0 GiB to 2\.0 GiB while web runs/);
    const r = await codeOf(runVolumeResize(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/web.qcow2', '512M', { shrink: true }));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/running VM\(s\) web .* a live disk can only grow/) });
  });
});

describe('resize SIZE', () => {
  it('takes +growth; the result is rounded up to whole sectors and capped at 1 EiB (the sizes themselves: units/size.test.ts)', () => {
    expect(newCapacity(2 ** 30, parseSizeChange('+5G'))).toBe(6 * 2 ** 30);
    expect(newCapacity(0, parseSizeChange('1000'))).toBe(1024);
    expect(() => newCapacity(2 ** 60, parseSizeChange('+1G'))).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
