/** vm console: only on a terminal, only while the VM runs. */
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { RUNNING, SHUTOFF, STATE } from './vm-states.js';
import { runKvmctl, short } from '../../../support/harness.js';

describe('vm console', () => {
  it('without a terminal is exit 2 pointing to vm log, and runs nothing', async () => {
    const runner = new FakeRunner();
    const r = await runKvmctl(['vm', 'console', 'w'], runner);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/vm console needs a terminal[\s\S]*hint: to read what the guest printed, use: kvmctl vm log w/);
    expect(runner.calls).toEqual([]);
  });

  it('on a terminal hands it to virsh console', async () => {
    const attached: Command[] = [];
    const runner = new (class extends FakeRunner {
      async runInteractive(cmd: Command): Promise<number> {
        attached.push(cmd);
        return 0;
      }
    })().stub(STATE('x y'), RUNNING);
    const r = await runKvmctl(['vm', 'console', 'x y'], runner, { tty: true });
    expect(r.code).toBe(0);
    expect(attached.map(short)).toEqual(['virsh console --domain x y']);
    expect(attached[0]?.args).toContain('x y');
  });

  it('of a shut-off VM is refused, pointing to vm log', async () => {
    const runner = new (class extends FakeRunner {
      async runInteractive(): Promise<number> {
        throw new Error('must not attach');
      }
    })().stub(STATE('w'), SHUTOFF);
    const r = await runKvmctl(['vm', 'console', 'w'], runner, { tty: true });
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/kvmctl vm log w/);
  });
});
