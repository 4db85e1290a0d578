import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolStop } from '../../../../src/commands/pool/stop.js';
import { mutations, outcome } from '../../../support/harness.js';
import { stubDomains, stubStorage, testContext, type FakePool } from '../../storage-harness.js';

const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };

describe('pool stop', () => {
  it('is refused while a running VM uses one of its volumes', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }, { only: ['p'], domains: false, volumes: false });
    stubDomains(runner, [{ name: 'vm1', state: 1, disks: [{ pool: 'p', volume: 'a.qcow2', target: 'vda' }] }]);
    const r = await outcome(runPoolStop(testContext(runner).ctx, 'p'));
    expect(r).toEqual({ code: 5, message: 'storage pool p has volumes in use by running VMs: a.qcow2 by vm1' });
    expect(mutations(runner)).toEqual([]);
  });
});
