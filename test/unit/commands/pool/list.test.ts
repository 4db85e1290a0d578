import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { runPoolList } from '../../../../src/commands/pool/list.js';
import { formatBytes } from '../../../../src/units/size.js';
import { outcome, recorded, testContext } from '../../../support/harness.js';
import { poolPath, stubStorage } from '../../../support/storage.js';

const bytes = (tag: string) => formatBytes(Number(new RegExp(`<${tag} unit='bytes'>(\\d+)<`).exec(recorded('storage/inuse/pool-dumpxml-p.xml'))?.[1]));

describe('pool list', () => {
  it('one table for all pools; inactive sizes are unknown, not zero', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), 'inuse', { domains: false, volumes: false }));
    await runPoolList(ctx);
    expect(io.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+AUTOSTART\s+PATH\s+CAPACITY\s+ALLOCATION\s+AVAILABLE\s+VOLUMES$/);
    const rows = io.out.split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows).toContainEqual(['p', 'dir', 'running', 'yes', poolPath('inuse', 'p'), bytes('capacity'), bytes('allocation'), bytes('available'), '7']);
    expect(rows).toContainEqual(['off', 'dir', 'inactive', 'no', poolPath('inuse', 'off'), '-', '-', '-', '-']);
  });

  it('an unreachable daemon is exit 5', async () => {
    const runner = new FakeRunner().stub((c: Command) => c.program === 'virsh', { exitCode: 1, stderr: recorded('err-virsh-unreachable.stderr') });
    expect((await outcome(runPoolList(testContext(runner).ctx))).code).toBe(5);
  });
});
