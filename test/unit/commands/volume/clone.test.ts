import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeClone } from '../../../../src/commands/volume/clone.js';
import { runVolumeConvert } from '../../../../src/commands/volume/convert.js';
import { volCopy, volCreate } from '../../volume-match.js';
import { outcome, testContext, URI } from '../../../support/harness.js';
import { fakeFiles, GiB, poolPath, stubStorage } from '../../../support/storage.js';

/** p/base of the recorded test-driver LVM pool: 4 GiB. */
const CAPACITY = 4 * GiB;

describe('volume clone', () => {
  it('--linked makes a qcow2 overlay on the source path with its format stated', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse').stub(
      volCreate(URI, 'p', { name: 'new.qcow2', capacityBytes: GiB, allocationBytes: 0, format: 'qcow2', backing: { path: `${poolPath('inuse', 'p')}/base.qcow2`, format: 'qcow2' } }),
      {},
    );
    await runVolumeClone(testContext(runner).ctx, 'p/base.qcow2', 'new.qcow2', { linked: true }, fakeFiles());
    runner.verify();
  });

  it('a volume whose chain names a file outside every pool is never copied (exit 5, nothing run); a chain within the pools is fine', async () => {
    for (const run of [
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeClone(ctx, 'p/evil.img', 'copy.img', {}, fakeFiles()),
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeConvert(ctx, 'p/evil.img', { to: 'raw' }, fakeFiles()),
    ]) {
      const runner = stubStorage(new FakeRunner(), 'inuse');
      const r = await outcome(run(testContext(runner).ctx));
      expect(r).toMatchObject({ code: 5, message: 'volume p/evil.img has a header naming /etc/shadow, which is no volume of any pool: kvmctl does not copy through it (a raw disk whose guest wrote a qcow2 header looks like this)' });
      expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    }
  });

  it('a linked clone of a disk VMs write to is refused (exit 5); a full copy is a sparse vol-create-from', async () => {
    const r = await outcome(runVolumeClone(testContext(stubStorage(new FakeRunner(), 'inuse')).ctx, 'p/old.qcow2', 'x.qcow2', { linked: true }, fakeFiles()));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/writable disk of old \(shutoff, vdb\)/) });
    const full = stubStorage(new FakeRunner(), 'inuse').stub(volCopy(URI, 'p', 'old.qcow2', { name: 'x.qcow2', capacityBytes: GiB, format: 'qcow2' }), {});
    await runVolumeClone(testContext(full).ctx, 'p/old.qcow2', 'x.qcow2', {}, fakeFiles());
    full.verify();
  });

  it('a volume of an LVM pool, whose XML states no format (as libvirt\'s test driver prints it), is copied whole (thick) as the raw block device it is', async () => {
    const runner = stubStorage(new FakeRunner(), 'testdriver').stub(volCopy(URI, 'p', 'base', { name: 'copy', capacityBytes: CAPACITY, allocationBytes: undefined, format: 'raw' }), {});
    await runVolumeClone(testContext(runner).ctx, 'p/base', 'copy', {}, fakeFiles());
    runner.verify();
  });
});
