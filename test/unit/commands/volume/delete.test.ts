import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeDelete } from '../../../../src/commands/volume/delete.js';
import { outcome, testContext, virshArgv } from '../../../support/harness.js';
import { poolPath, stubStorage, writes } from '../../../support/storage.js';

const P = poolPath('inuse', 'p');

describe('volume delete', () => {
  it.each([
    ['p/web.qcow2', {}, 5, /in use by running VM\(s\) web \(running, vda\)/],
    ['p/web.qcow2', { force: true }, 5, /in use by running VM\(s\) web/],
    ['p/base.qcow2', { force: true }, 5, /is the backing file of p\/o\.qcow2/],
    ['p/old.qcow2', {}, 5, /is a disk of VM\(s\) old \(shutoff, vdb\)/],
    ['p/missing', {}, 3, /volume p\/missing not found/],
  ])('%s %j is exit %i, nothing deleted', async (ref, opts, code, message) => {
    const runner = stubStorage(new FakeRunner(), 'inuse');
    const r = await outcome(runVolumeDelete(testContext(runner).ctx, ref, opts));
    expect(r.code).toBe(code);
    expect(r.message).toMatch(message);
    expect(writes(runner)).toEqual([]);
  });

  it('--force deletes a disk of a VM that is not running, and warns about the VM', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse').stub(virshArgv('vol-delete', '--pool', 'p', '--vol', 'old.qcow2'), {});
    const { ctx, io } = testContext(runner);
    await runVolumeDelete(ctx, 'p/old.qcow2', { force: true });
    runner.verify();
    expect(io.err).toContain(`warning: VM(s) old (shutoff, vdb) still name ${P}/old.qcow2`);
  });
});
