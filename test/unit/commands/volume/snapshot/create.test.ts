import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { runVolumeSnapshotCreate as runSnapshotCreate } from '../../../../../src/commands/volume/snapshot/create.js';
import { outcome as codeOf, testContext } from '../../../../support/harness.js';

describe('volume snapshot create', () => {
  it('all-digit names are exit 2 (qemu-img would read them as ids)', async () => {
    expect((await codeOf(runSnapshotCreate(testContext(new FakeRunner()).ctx, 'p/v', '12'))).code).toBe(2);
  });
});
