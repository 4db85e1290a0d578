import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolStop } from '../../../../src/commands/pool/stop.js';
import { mutations, outcome, testContext } from '../../../support/harness.js';
import { stubDomains, stubStorage } from '../../../support/storage.js';

describe('pool stop', () => {
  it('is refused while a running VM uses one of its volumes', async () => {
    const runner = stubStorage(new FakeRunner(), 'inuse', { only: ['p'], domains: false, volumes: false });
    stubDomains(runner, 'inuse');
    const r = await outcome(runPoolStop(testContext(runner).ctx, 'p'));
    expect(r).toEqual({ code: 5, message: 'storage pool p has volumes in use by running VMs: web.qcow2 by web' });
    expect(mutations(runner)).toEqual([]);
  });
});
