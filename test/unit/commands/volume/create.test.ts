import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeCreate } from '../../../../src/commands/volume/create.js';
import { isVolCreate, volCreate, volumeXml } from '../../volume-match.js';
import { formatBytes } from '../../../../src/units/size.js';
import { outcome as codeOf, recorded, testContext, URI } from '../../../support/harness.js';
import { fakeFiles, GiB, poolAvailable, poolPath, stubStorage, writes } from '../../../support/storage.js';

const P = poolPath('inuse', 'p');

describe('volume create', () => {
  it('runs one vol-create with the size in bytes, thin, and says what it made', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false }).stub(
      volCreate(URI, 'p', { name: 'web.qcow2', capacityBytes: 20 * GiB, allocationBytes: 0, format: 'qcow2' }),
      { stdout: 'Vol web.qcow2 created\n' },
    );
    const { ctx, io } = testContext(runner);
    await runVolumeCreate(ctx, 'web.qcow2', { pool: 'p', size: '20G' }, fakeFiles());
    runner.verify();
    expect(io.out).toBe('volume p/web.qcow2 created (qcow2, 20.0 GiB)\n');
  });

  it('an overlay states its backing format with the backing path, and takes the backing size by default', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse', { domains: false }).stub(
      volCreate(URI, 'p', { name: 'o2.qcow2', capacityBytes: GiB, allocationBytes: 0, format: 'qcow2', backing: { path: `${P}/a.raw`, format: 'raw' } }),
      {},
    );
    const { ctx } = testContext(runner);
    await runVolumeCreate(ctx, 'o2.qcow2', { pool: 'p', backing: 'p/a.raw' }, fakeFiles());
    runner.verify();
  });

  it('in an LVM pool the allocation is left to libvirt: below the capacity it would make a snapshot volume that writes overflow', async () => {
    const runner = stubStorage(new FakeRunner(), 'testdriver', { domains: false }).stub(volCreate(URI, 'p', { name: 'data', capacityBytes: 2 * GiB, format: 'raw' }), {});
    await runVolumeCreate(testContext(runner).ctx, 'data', { pool: 'p', size: '2G', format: 'raw' }, fakeFiles());
    runner.verify();
  });

  it('re-running with the same spec is "unchanged" (exit 0, nothing written); another spec is exit 4', async () => {
    const state = 'inuse';
    const same = stubStorage(new FakeRunner(), state, { domains: false });
    const a = testContext(same);
    await runVolumeCreate(a.ctx, 'web.qcow2', { pool: 'p', size: '1G' }, fakeFiles());
    expect(a.io.out).toBe('volume p/web.qcow2 already exists as asked: unchanged\n');
    expect(writes(same)).toEqual([]);

    const other = stubStorage(new FakeRunner(), state, { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(other).ctx, 'web.qcow2', { pool: 'p', size: '30G' }, fakeFiles()));
    expect(r).toEqual({ code: 4, message: 'volume p/web.qcow2 already exists with another spec (size 1.0 GiB -> 30.0 GiB)' });
    expect(writes(other)).toEqual([]);
  });

  it('an unrelated file at the target path is exit 4 and untouched', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(runner).ctx, 'web.qcow2', { pool: 'p', size: '1G' }, fakeFiles({ [`${P}/web.qcow2`]: { sizeBytes: 6 } })));
    expect(r.code).toBe(4);
    expect(r.message).toContain(`a file that is not a volume of pool p already exists at ${P}/web.qcow2; kvmctl never overwrites it`);
    expect(writes(runner)).toEqual([]);
  });

  it('another process creating the same name first (libvirt: exists already) is exit 4', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false }).stub(
      isVolCreate,
      { exitCode: 1, stderr: recorded('storage/pair/err-vol-create-exists.stderr') },
    );
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, 'web.qcow2', { pool: 'p', size: '1G' }, fakeFiles()))).code).toBe(4);
  });

  it("a size beyond the pool's free space is exit 5 unless --allow-overcommit", async () => {
    // More than the recorded pool has free, in whole GiB.
    const free = poolAvailable('empty', 'p');
    const size = Math.ceil(free / GiB + 1);
    const refused = stubStorage(new FakeRunner(), 'empty', { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(refused).ctx, 'big', { pool: 'p', size: `${size}G` }, fakeFiles()));
    expect(r.code).toBe(5);
    expect(r.message).toBe(`volume p/big would need up to ${formatBytes(size * GiB)}, more than the ${formatBytes(free)} free in pool p`);
    const allowed = stubStorage(new FakeRunner(), 'empty', { domains: false }).stub(isVolCreate, {});
    await runVolumeCreate(testContext(allowed).ctx, 'big', { pool: 'p', size: `${size}G`, allowOvercommit: true }, fakeFiles());
    allowed.verify();
  });

  it.each(['0', '-1G', '10GG', '1e3', 'abc', '2000P', ''])('--size %j is exit 2 before anything runs', async (size) => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, 'v', { pool: 'p', size }, fakeFiles()))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it.each([['a/b'], ['..'], ['-v'], ['x\ty'], ['caf\u00e9']])('volume name %j is exit 2 before anything runs', async (name) => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, name, { pool: 'p', size: '1G' }, fakeFiles()))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it('--dry-run prints the exact virsh argv and the volume XML, and changes nothing', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false });
    const { ctx, io } = testContext(runner, { dryRun: true });
    await runVolumeCreate(ctx, 'web.qcow2', { pool: 'p', size: '1G', format: 'raw' }, fakeFiles());
    expect(io.err).toBe(
      `[dry-run] would run: virsh -c qemu:///system vol-create --pool p --file /dev/stdin\n[dry-run] with input:\n${volumeXml({ name: 'web.qcow2', capacityBytes: GiB, allocationBytes: 0, format: 'raw' })}`,
    );
    expect(io.out).toBe('volume p/web.qcow2 created (raw, 1.0 GiB) (dry run: nothing was changed)\n');
    expect(writes(runner)).toEqual([]);
  });
});
