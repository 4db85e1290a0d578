import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolInfo } from '../../../../src/commands/pool/info.js';
import { stubStorage, testContext, type FakePool } from '../../storage-harness.js';

describe('pool info', () => {
  it('info -o json has the pool, its source and its volumes with users', async () => {
    const netfs: FakePool = { name: 'nfs', type: 'netfs', path: '/mnt/vm', sourceXml: "<host name='nas'/><dir path='/export'/><format type='nfs'/>", volumes: [{ name: 'a.qcow2' }] };
    const runner = stubStorage(new FakeRunner(), { pools: [netfs], domains: [{ name: 'vm1', state: 1, disks: [{ file: '/mnt/vm/a.qcow2', target: 'vda' }] }] }, { only: ['nfs'] });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolInfo(ctx, 'nfs');
    const j = JSON.parse(io.out);
    expect(j).toMatchObject({ name: 'nfs', type: 'netfs', source: { host: 'nas', dir: '/export', format: 'nfs' }, volumeCount: 1 });
    expect(j.volumes[0]).toMatchObject({ name: 'a.qcow2', users: [{ vm: 'vm1', active: true }] });
  });

});
