import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolAutostart } from '../../../../src/commands/pool/autostart.js';
import { mutations, testContext, virshArgv as virsh } from '../../../support/harness.js';
import { stubStorage } from '../../../support/storage.js';

describe('pool autostart', () => {
  it('when already on it is "unchanged", exit 0, nothing run; --disable turns it off', async () => {
    // Recorded: pool p of the inuse state has autostart on.
    const b = stubStorage(new FakeRunner(), 'inuse', { only: ['p'], domains: false, volumes: false });
    const on = testContext(b);
    await runPoolAutostart(on.ctx, 'p', {});
    expect(on.io.out).toBe('storage pool p autostart is already on: unchanged\n');
    expect(mutations(b)).toEqual([]);
    const c = stubStorage(new FakeRunner(), 'inuse', { only: ['p'], domains: false, volumes: false }).stub(virsh('pool-autostart', '--pool', 'p', '--disable'), {});
    const off = testContext(c);
    await runPoolAutostart(off.ctx, 'p', { disable: true });
    expect(off.io.out).toBe('storage pool p autostart off\n');
  });
});
