/** `vm snapshot revert` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { recorded, runKvmctl, tableAndJson, virshArgv } from '../../../../support/harness.js';

describe('vm snapshot revert', () => {
  it('names the snapshot; a missing one is exit 3', async () => {
    const { table, json } = await tableAndJson(['vm', 'snapshot', 'revert'], ['fxvm-off', 'snap1'], virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'snap1'));
    expect(table).toBe('vm fxvm-off reverted to snapshot snap1\n');
    expect(json).toEqual({ changed: true, name: 'fxvm-off', snapshot: 'snap1' });
    const missing = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'nosuch'), { exitCode: 1, stderr: recorded('vm/err-virsh-snapshot-revert-nosuch.stderr') });
    const r = await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'nosuch'], missing);
    expect([r.code, r.err]).toEqual([3, expect.stringMatching(/snapshot "nosuch" not found[\s\S]*kvmctl vm snapshot list/)]);
  });
});
