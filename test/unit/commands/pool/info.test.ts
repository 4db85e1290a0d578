import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolInfo } from '../../../../src/commands/pool/info.js';
import { testContext } from '../../../support/harness.js';
import { stubStorage } from '../../../support/storage.js';

describe('pool info', () => {
  it('info -o json has the pool, its source and its volumes with users', async () => {
    // libvirt's test driver (testdriver/node.xml): netfs pool nfs, its a.qcow2 the disk of running vm1.
    const runner = stubStorage(new FakeRunner(), 'testdriver', { only: ['nfs'] });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolInfo(ctx, 'nfs');
    const j = JSON.parse(io.out);
    expect(j).toMatchObject({ name: 'nfs', type: 'netfs', source: { host: 'nas', dir: '/export', format: 'nfs' }, volumeCount: 1 });
    expect(j.volumes[0]).toMatchObject({ name: 'a.qcow2', users: [{ vm: 'vm1', active: true }] });
  });
});
