import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeList } from '../../../../src/commands/volume/list.js';
import { inUse, stubStorage, testContext } from '../../storage-harness.js';

describe('volume list', () => {
  it('JSON lists every volume with its users and overlays, in constant calls', async () => {
    const runner = stubStorage(new FakeRunner(), inUse);
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeList(ctx, {});
    runner.verify();
    expect(runner.calls).toHaveLength(5);
    const vols = JSON.parse(io.out);
    expect(vols.find((v: { name: string }) => v.name === 'web.qcow2').users).toEqual([{ vm: 'web', state: 'running', active: true, target: 'vda', readonly: false }]);
    expect(vols.find((v: { name: string }) => v.name === 'base.qcow2').dependents).toEqual(['p/o.qcow2']);
  });

  it('the table names backing volumes as POOL/NAME and the VMs using each', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), inUse));
    await runVolumeList(ctx, {});
    expect(io.out).toMatch(/^p\s+o\.qcow2\s+qcow2\s+1\.0 GiB\s+196\.0 KiB\s+p\/base\.qcow2\s+-$/m);
    expect(io.out).toMatch(/^p\s+web\.qcow2 .* web \(running, vda\)$/m);
  });
});
