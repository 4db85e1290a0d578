import { describe, expect, it } from 'vitest';
import { DeadlineRunner } from '../../../src/exec/deadline-runner.js';
import { CommandTimeoutError, type Runner } from '../../../src/exec/runner.js';
import { RealRunner } from '../../../src/exec/real-runner.js';
import type { Command } from '../../../src/exec/command.js';

describe('DeadlineRunner', () => {
  it('gives each program the time its host has left, never more than its own timeout', async () => {
    const seen: Array<number | undefined> = [];
    const inner: Runner = { run: async (c: Command) => (seen.push(c.timeoutMs), { stdout: '', stderr: '', exitCode: 0 }) };
    const r = new DeadlineRunner(inner, Date.now() + 5000);
    await r.run({ program: 'virsh', args: [], mutates: false });
    await r.run({ program: 'virsh', args: [], mutates: false, timeoutMs: 100 });
    expect(seen[0]).toBeGreaterThan(4000);
    expect(seen[0]).toBeLessThanOrEqual(5000);
    expect(seen[1]).toBe(100);
  });

  it('starts nothing once the deadline has passed', async () => {
    const inner: Runner = { run: async () => { throw new Error('must not run'); } };
    await expect(new DeadlineRunner(inner, Date.now() - 1).run({ program: 'virsh', args: [], mutates: false })).rejects.toBeInstanceOf(CommandTimeoutError);
  });

  it('stops a real program that outlives the deadline', async () => {
    // Without the kill, sleep would exit 0 after 30 s and the promise would resolve.
    const r = new DeadlineRunner(new RealRunner(), Date.now() + 300);
    await expect(r.run({ program: 'sleep', args: ['30'], mutates: false })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(r.expired).toBe(true);
  });

  it("says the host expired only when the deadline stopped a program: a program's own shorter timeout is that program's failure", async () => {
    const r = new DeadlineRunner(new RealRunner(), Date.now() + 60_000);
    await expect(r.run({ program: 'sleep', args: ['30'], mutates: false, timeoutMs: 200 })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(r.expired).toBe(false);
    // A conversation stopped by the deadline counts as well.
    const c = new DeadlineRunner(new RealRunner(), Date.now() + 300);
    const talk = c.converse!({ program: 'sh', args: ['-c', 'exec sleep 30'], mutates: false });
    await expect(talk.send('x\n', { stdout: 'never\n', stderr: 'never\n' })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(c.expired).toBe(true);
  });
});
