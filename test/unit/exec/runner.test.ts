import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { DryRunRunner, VerboseRunner } from '../../../src/exec/dry-run.js';
import { FaultRunner, parseFaultSpec, parseFaultSpecs } from '../../../src/exec/fault.js';
import { formatCommand, mutatingCommand, readCommand } from '../../../src/exec/command.js';
import { Transaction } from '../../../src/exec/transaction.js';
import { ExitCode, InterruptedError, PartialError, RolledBackError, UsageError } from '../../../src/errors.js';

describe('FakeRunner', () => {
  it('answers stubbed commands and fails on anything else', async () => {
    const fake = new FakeRunner().stub(['virsh', 'list'], { stdout: 'x\n' });
    expect((await fake.run(readCommand('virsh', ['list']))).stdout).toBe('x\n');
    await expect(fake.run(mutatingCommand('virsh', ['undefine', 'web1']))).rejects.toThrow(/unexpected command: virsh undefine web1/);
  });

  it('is verified after every test by default (test/support/setup.ts): only allowUnused opts out', () => {
    expect(new FakeRunner().allowUnused).toBe(false);
  });

  // The one opt-out: this test checks verify() itself, and the setup would fail it afterwards.
  it('verify() fails on stubs that were never used', () => {
    const fake = new FakeRunner({ allowUnused: true }).stub(['virsh', 'start', 'a'], {});
    expect(() => fake.verify()).toThrow(/never called: virsh start a/);
  });
});

describe('DryRunRunner', () => {
  it('runs reads, prints and skips writes with their input', async () => {
    const fake = new FakeRunner().stub(['virsh', 'list'], { stdout: 'a\n' });
    let err = '';
    const dry = new DryRunRunner(fake, (t) => (err += t));
    expect((await dry.run(readCommand('virsh', ['list']))).stdout).toBe('a\n');
    const r = await dry.run(mutatingCommand('virsh', ['define', '/dev/stdin'], { input: '<domain/>' }));
    expect(r.exitCode).toBe(0);
    expect(err).toBe('[dry-run] would run: virsh define /dev/stdin\n[dry-run] with input:\n<domain/>\n');
    fake.verify();
    expect(fake.calls).toHaveLength(1);
  });
});

describe('VerboseRunner', () => {
  it('prints each command before running it', async () => {
    let err = '';
    const fake = new FakeRunner().stub(['virsh', '-c', 'qemu:///system', 'dominfo', '--domain', 'a b'], { exitCode: 1, stderr: 'error: nope\n' });
    await new VerboseRunner(fake, (t) => (err += t)).run(readCommand('virsh', ['-c', 'qemu:///system', 'dominfo', '--domain', 'a b']));
    expect(err).toBe("+ virsh -c qemu:///system dominfo --domain 'a b'\n  exit 1: error: nope\n");
  });
});

describe('formatCommand', () => {
  it('quotes for display only', () => {
    expect(formatCommand({ program: 'virsh', args: ['undefine', "a';rm -rf /"] })).toBe(`virsh undefine 'a'\\'';rm -rf /'`);
  });
});

describe('FaultRunner', () => {
  it('fails exactly the K-th state-changing command', async () => {
    const fake = new FakeRunner().stub(() => true, {}, Infinity);
    const faulty = new FaultRunner(fake, { mode: 'fail', at: 2 });
    expect((await faulty.run(readCommand('virsh', ['list']))).exitCode).toBe(0);
    expect((await faulty.run(mutatingCommand('virsh', ['a']))).exitCode).toBe(0);
    const second = await faulty.run(mutatingCommand('virsh', ['b']));
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/injected fault .* virsh b/);
    expect((await faulty.run(mutatingCommand('virsh', ['c']))).exitCode).toBe(0);
    expect(fake.argvs()).toEqual(['virsh list', 'virsh a', 'virsh c']);
  });

  it('hang:K waits until the signal fires', async () => {
    const controller = new AbortController();
    const faulty = new FaultRunner(new FakeRunner(), { mode: 'hang', at: 1 }, controller.signal);
    const pending = faulty.run(mutatingCommand('virsh', ['start', 'x']));
    setTimeout(() => controller.abort(), 10);
    expect((await pending).exitCode).toBe(130);
  });

  it('parses the spec strictly', () => {
    expect(parseFaultSpec('fail:3')).toEqual({ mode: 'fail', at: 3 });
    expect(parseFaultSpec(undefined)).toBeUndefined();
    expect(() => parseFaultSpec('fail:0')).toThrow(UsageError);
    expect(() => parseFaultSpec('boom')).toThrow(UsageError);
  });

  it('takes a list, counted over the whole run (undo steps included)', async () => {
    expect(parseFaultSpecs('fail:3,hang:5')).toEqual([
      { mode: 'fail', at: 3 },
      { mode: 'hang', at: 5 },
    ]);
    expect(parseFaultSpecs('')).toEqual([]);
    expect(() => parseFaultSpecs('fail:3,fail:3')).toThrow(/named twice/);
    expect(() => parseFaultSpecs('fail:3,')).toThrow(/empty item/);
    const fake = new FakeRunner().stub(() => true, {}, Infinity);
    const faulty = new FaultRunner(fake, parseFaultSpecs('fail:1,fail:3'));
    const codes = [];
    for (const c of ['a', 'b', 'c', 'd']) codes.push((await faulty.run(mutatingCommand('virsh', [c]))).exitCode);
    expect(codes).toEqual([1, 0, 1, 0]);
    expect(fake.argvs()).toEqual(['virsh b', 'virsh d']);
  });

  it('names the step in the failure, and announces a hang before holding it', async () => {
    const controller = new AbortController();
    let said = '';
    const faulty = new FaultRunner(new FakeRunner(), [{ mode: 'fail', at: 1 }, { mode: 'hang', at: 2 }], controller.signal, (t) => (said += t));
    expect((await faulty.run(mutatingCommand('virsh', ['define', 'x']))).stderr).toBe('error: injected fault (KVMCTL_FAULT) at step 1: virsh define x\n');
    const pending = faulty.run(mutatingCommand('virsh', ['start', 'x']));
    expect(said).toBe('kvmctl: KVMCTL_FAULT: holding step 2 until interrupted: virsh start x\n');
    controller.abort();
    expect((await pending).exitCode).toBe(130);
  });
});

describe('Transaction', () => {
  it('returns the result and undoes nothing on success', async () => {
    const undone: string[] = [];
    const tx = new Transaction('vm create web1');
    const r = await tx.run(async (t) => {
      t.onRollback({ what: 'volume a', manual: 'x', run: async () => void undone.push('a') });
      return 42;
    });
    expect(r).toBe(42);
    expect(undone).toEqual([]);
  });

  it('undoes in reverse order and reports exit 7', async () => {
    const undone: string[] = [];
    const tx = new Transaction('vm create web1');
    const err = await tx
      .run(async (t) => {
        t.onRollback({ what: 'volume a', manual: 'x', run: async () => void undone.push('a') });
        t.onRollback({ what: 'domain web1', manual: 'y', run: async () => void undone.push('web1') });
        throw new Error('virsh start failed');
      })
      .catch((e: unknown) => e);
    expect(undone).toEqual(['web1', 'a']);
    expect(err).toBeInstanceOf(RolledBackError);
    expect((err as RolledBackError).exitCode).toBe(ExitCode.RolledBack);
    expect((err as Error).message).toBe('vm create web1 failed: virsh start failed; everything it had done was undone');
  });

  it('names what it could not undo (exit 8)', async () => {
    const err = await new Transaction('volume import')
      .run(async (t) => {
        t.onRollback({ what: 'file /p/.tmp', manual: "rm -- '/p/.tmp'", run: async () => Promise.reject(new Error('EBUSY')) });
        throw new Error('convert failed');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialError);
    expect((err as PartialError).exitCode).toBe(ExitCode.Partial);
    expect((err as PartialError).leftovers).toEqual(["file /p/.tmp (remove with: rm -- '/p/.tmp')"]);
  });

  it('rethrows untouched when nothing had been done yet', async () => {
    const original = new UsageError('bad');
    await expect(new Transaction('x').run(async () => Promise.reject(original))).rejects.toBe(original);
  });

  it('a first step that fails is still exit 7: the host is as it was', async () => {
    const err = await new Transaction('net nat enable --bridge br0').run(async () => Promise.reject(new Error('ip addr add failed'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolledBackError);
    expect((err as Error).message).toBe('net nat enable --bridge br0 failed: ip addr add failed; it had changed nothing yet, so nothing is left');
  });

  it('a step cut short by the signal counts as interrupted (exit 130), not as failed', async () => {
    const controller = new AbortController();
    const undone: string[] = [];
    const err = await new Transaction('vm create web1', { signal: controller.signal })
      .run(async (t) => {
        t.onRollback({ what: 'volume a', manual: 'x', run: async () => void undone.push('a') });
        controller.abort();
        // The tool died of the same Ctrl-C: a plain failure, not an InterruptedError.
        throw new Error('virsh define failed (exit 130)');
      })
      .catch((e: unknown) => e);
    expect(undone).toEqual(['a']);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe('vm create web1: interrupted; everything it had done was undone');
  });

  it('rolls back when interrupted between steps (exit 130)', async () => {
    const controller = new AbortController();
    const undone: string[] = [];
    const err = await new Transaction('vm clone', { signal: controller.signal })
      .run(async (t) => {
        t.onRollback({ what: 'volume c', manual: 'x', run: async () => void undone.push('c') });
        controller.abort();
        t.checkpoint();
      })
      .catch((e: unknown) => e);
    expect(undone).toEqual(['c']);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(130);
  });
});
