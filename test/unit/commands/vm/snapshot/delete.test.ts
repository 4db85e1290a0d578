/** `vm snapshot delete` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { runKvmctl, virshArgv } from '../../../vm-harness.js';
import { parseOutput } from '../../../../support/schemas.js';

describe('vm snapshot delete', () => {
  it('names the snapshot', async () => {
    const ok = new FakeRunner().stub(virshArgv('snapshot-delete', '--domain', 'fxvm-off', '--snapshotname', 'snap2'), {});
    expect((await runKvmctl(['vm', 'snapshot', 'delete', 'fxvm-off', 'snap2'], ok)).out).toBe('vm fxvm-off: snapshot snap2 deleted\n');
    ok.verify();
    const json = new FakeRunner().stub(virshArgv('snapshot-delete', '--domain', 'fxvm-off', '--snapshotname', 'snap2'), {});
    expect(parseOutput(['vm', 'snapshot', 'delete'], (await runKvmctl(['vm', 'snapshot', 'delete', 'fxvm-off', 'snap2', '-o', 'json'], json)).out)).toEqual({ changed: true, name: 'fxvm-off', snapshot: 'snap2' });
    json.verify();
  });
});
