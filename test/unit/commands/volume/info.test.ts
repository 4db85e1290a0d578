import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeInfo } from '../../../../src/commands/volume/info.js';
import { testContext } from '../../../support/harness.js';
import { poolPath, stubStorage } from '../../../support/storage.js';

describe('volume info', () => {
  it('info on a remote host comes from libvirt alone and says snapshots are unavailable', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), 'inuse', { uri: remote }), { uri: remote, output: 'json' });
    await runVolumeInfo(ctx, 'p/o.qcow2');
    expect(JSON.parse(io.out)).toMatchObject({ name: 'o.qcow2', backingChain: [{ path: `${poolPath('inuse', 'p')}/base.qcow2`, format: 'qcow2' }], snapshots: null });
  });
});
