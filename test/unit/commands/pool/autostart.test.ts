import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runPoolAutostart } from '../../../../src/commands/pool/autostart.js';
import { mutations } from '../../../support/harness.js';
import { stubStorage, testContext, URI, type FakePool } from '../../storage-harness.js';

const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };
const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];

describe('pool autostart', () => {
  it('when already on it is "unchanged", exit 0, nothing run; --disable turns it off', async () => {
    const state = { pools: [{ ...full, autostart: true }] };
    const b = stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false });
    const on = testContext(b);
    await runPoolAutostart(on.ctx, 'p', {});
    expect(on.io.out).toBe('storage pool p autostart is already on: unchanged\n');
    expect(mutations(b)).toEqual([]);
    const c = stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false }).stub(virsh('pool-autostart', '--pool', 'p', '--disable'), {});
    const off = testContext(c);
    await runPoolAutostart(off.ctx, 'p', { disable: true });
    expect(off.io.out).toBe('storage pool p autostart off\n');
  });
});
