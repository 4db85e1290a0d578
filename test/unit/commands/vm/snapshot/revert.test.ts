/** `vm snapshot revert` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { recorded, runKvmctl, virshArgv } from '../../../vm-harness.js';
import { parseOutput } from '../../../../support/schemas.js';

describe('vm snapshot revert', () => {
  it('names the snapshot; a missing one is exit 3', async () => {
    const ok = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'snap1'), {});
    expect((await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'snap1'], ok)).out).toBe('vm fxvm-off reverted to snapshot snap1\n');
    ok.verify();
    const json = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'snap1'), {});
    expect(parseOutput(['vm', 'snapshot', 'revert'], (await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'snap1', '-o', 'json'], json)).out)).toEqual({ changed: true, name: 'fxvm-off', snapshot: 'snap1' });
    json.verify();
    const missing = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'nosuch'), { exitCode: 1, stderr: recorded('err-virsh-snapshot-revert-nosuch.stderr') });
    const r = await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'nosuch'], missing);
    expect([r.code, r.err]).toEqual([3, expect.stringMatching(/snapshot "nosuch" not found[\s\S]*kvmctl vm snapshot list/)]);
  });
});
