import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { runPoolList } from '../../../../src/commands/pool/list.js';
import { outcome } from '../../../support/harness.js';
import { stubStorage, testContext, type FakePool } from '../../storage-harness.js';

const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };

describe('pool list', () => {
  it('one table for all pools; inactive sizes are unknown, not zero', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), { pools: [full, { name: 'off', state: 'inactive' }] }, { domains: false, volumes: false }));
    await runPoolList(ctx);
    expect(io.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+AUTOSTART\s+PATH\s+CAPACITY\s+ALLOCATION\s+AVAILABLE\s+VOLUMES$/);
    expect(io.out).toMatch(/^p\s+dir\s+running\s+no\s+\/pools\/p\s+200\.0 GiB\s+0 B\s+100\.0 GiB\s+2$/m);
    expect(io.out).toMatch(/^off\s+dir\s+inactive\s+no\s+\/pools\/off\s+-\s+-\s+-\s+-$/m);
  });

  it('an unreachable daemon is exit 5', async () => {
    const runner = new FakeRunner().stub((c: Command) => c.program === 'virsh', { exitCode: 1, stderr: 'error: failed to connect to the hypervisor\n' });
    expect((await outcome(runPoolList(testContext(runner).ctx))).code).toBe(5);
  });
});
