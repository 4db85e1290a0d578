import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { runVolumeSnapshotCreate as runSnapshotCreate } from '../../../../../src/commands/volume/snapshot/create.js';
import { runVolumeSnapshotList as runSnapshotList } from '../../../../../src/commands/volume/snapshot/list.js';
import { runVolumeSnapshotRevert as runSnapshotRevert } from '../../../../../src/commands/volume/snapshot/revert.js';
import { outcome, testContext } from '../../../../support/harness.js';
import { stubStorage } from '../../../../support/storage.js';

describe('volume snapshot: what every verb checks first', () => {
  it('is local-only: against a remote host it is exit 5 and says so', async () => {
    const runner = new FakeRunner();
    const r = await outcome(runSnapshotList(testContext(runner, { uri: 'qemu+ssh://root@kvm1/system' }).ctx, 'p/v'));
    expect(r.code).toBe(5);
    expect(r.message).toMatch(/is another host: this is a local-only feature/);
    expect(runner.calls).toEqual([]);
  });

  it('needs qcow2 and no running VM', async () => {
    const raw = await outcome(runSnapshotCreate(testContext(stubStorage(new FakeRunner(), 'inuse')).ctx, 'p/a.raw', 's1'));
    expect(raw).toMatchObject({ code: 5, message: expect.stringMatching(/internal snapshots need qcow2/) });
    const running = await outcome(runSnapshotRevert(testContext(stubStorage(new FakeRunner(), 'inuse')).ctx, 'p/web.qcow2', 's1'));
    expect(running).toMatchObject({ code: 5, message: expect.stringMatching(/in use by running VM\(s\) web/) });
    const base = await outcome(runSnapshotRevert(testContext(stubStorage(new FakeRunner(), 'inuse')).ctx, 'p/base.qcow2', 's1'));
    expect(base).toMatchObject({ code: 5, message: expect.stringMatching(/backing file of p\/o\.qcow2; reverting it would corrupt them/) });
  });
});
