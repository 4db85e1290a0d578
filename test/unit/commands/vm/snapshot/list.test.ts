/** `vm snapshot list` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { parseOutput } from '../../../../support/schemas.js';
import { offSnapshots, SNAP_READS } from './recorded-snapshots.js';
import { runKvmctl, stubBatch } from '../../../../support/harness.js';

describe('vm snapshot list', () => {
  it('name, ISO time, state, parent, which is current', async () => {
    const r = await runKvmctl(['vm', 'snapshot', 'list', 'fxvm-off', '-o', 'json'], offSnapshots());
    expect(parseOutput(['vm', 'snapshot', 'list', 'fxvm-off'], r.out)).toEqual([
      { name: 'snap1', createdAt: expect.stringMatching(/Z$/), state: 'shutoff', parent: null, current: false },
      { name: 'snap2', createdAt: expect.stringMatching(/Z$/), state: 'shutoff', parent: 'snap1', current: true },
    ]);
  });

  it('a VM that does not exist is exit 3', async () => {
    const runner = stubBatch(new FakeRunner(), SNAP_READS('nosuch'), ['', '', ''], "error: failed to get domain 'nosuch'\n");
    expect((await runKvmctl(['vm', 'snapshot', 'list', 'nosuch'], runner)).code).toBe(3);
  });
});
