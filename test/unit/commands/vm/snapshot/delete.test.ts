/** `vm snapshot delete` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { tableAndJson, virshArgv } from '../../../../support/harness.js';

describe('vm snapshot delete', () => {
  it('names the snapshot', async () => {
    const { table, json } = await tableAndJson(['vm', 'snapshot', 'delete'], ['fxvm-off', 'snap2'], virshArgv('snapshot-delete', '--domain', 'fxvm-off', '--snapshotname', 'snap2'));
    expect(table).toBe('vm fxvm-off: snapshot snap2 deleted\n');
    expect(json).toEqual({ changed: true, name: 'fxvm-off', snapshot: 'snap2' });
  });
});
