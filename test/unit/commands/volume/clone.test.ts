import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeClone } from '../../../../src/commands/volume/clone.js';
import { runVolumeConvert } from '../../../../src/commands/volume/convert.js';
import { volCopy, volCreate } from '../../volume-match.js';
import { codeOf, fakeFiles, GiB, pool, stubStorage, testContext, URI, type StorageState } from '../../storage-harness.js';

describe('volume clone', () => {
  it('--linked makes a qcow2 overlay on the source path with its format stated', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'base.qcow2', capacity: 8 * GiB }])] }).stub(
      volCreate(URI, 'p', { name: 'web.qcow2', capacityBytes: 8 * GiB, allocationBytes: 0, format: 'qcow2', backing: { path: '/pools/p/base.qcow2', format: 'qcow2' } }),
      {},
    );
    await runVolumeClone(testContext(runner).ctx, 'p/base.qcow2', 'web.qcow2', { linked: true }, fakeFiles());
    runner.verify();
  });

  it('a volume whose chain names a file outside every pool is never copied (exit 5, nothing run); a chain within the pools is fine', async () => {
    const probed = { pools: [pool([{ name: 'evil.img', format: 'qcow2', backing: { path: '/etc/shadow', format: 'raw' } }])] };
    for (const run of [
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeClone(ctx, 'p/evil.img', 'copy.img', {}, fakeFiles()),
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeConvert(ctx, 'p/evil.img', { to: 'raw' }, fakeFiles()),
    ]) {
      const runner = stubStorage(new FakeRunner(), probed);
      const r = await codeOf(run(testContext(runner).ctx));
      expect(r).toMatchObject({ code: 5, message: 'volume p/evil.img has a header naming /etc/shadow, which is no volume of any pool: kvmctl does not copy through it (a raw disk whose guest wrote a qcow2 header looks like this)' });
      expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    }
  });

  it('a linked clone of a disk VMs write to is refused (exit 5); a full copy is a sparse vol-create-from', async () => {
    const state: StorageState = { pools: [pool([{ name: 'base.qcow2' }])], domains: [{ name: 'old', state: 5, disks: [{ file: '/pools/p/base.qcow2', target: 'vda' }] }] };
    const r = await codeOf(runVolumeClone(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/base.qcow2', 'x.qcow2', { linked: true }, fakeFiles()));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/writable disk of old \(shutoff, vda\)/) });
    const full = stubStorage(new FakeRunner(), state).stub(volCopy(URI, 'p', 'base.qcow2', { name: 'x.qcow2', capacityBytes: GiB, format: 'qcow2' }), {});
    await runVolumeClone(testContext(full).ctx, 'p/base.qcow2', 'x.qcow2', {}, fakeFiles());
    full.verify();
  });

  it('a full copy in an LVM pool is as thick as libvirt makes it (no allocation asked)', async () => {
    const state: StorageState = { pools: [pool([{ name: 'base', format: 'raw', capacity: 4 * GiB }], { type: 'logical', path: '/dev/vg0' })] };
    const runner = stubStorage(new FakeRunner(), state).stub(volCopy(URI, 'p', 'base', { name: 'copy', capacityBytes: 4 * GiB, format: 'raw', allocationBytes: undefined }), {});
    await runVolumeClone(testContext(runner).ctx, 'p/base', 'copy', {}, fakeFiles());
    runner.verify();
  });
});
