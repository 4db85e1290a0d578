/** RealRunner against real programs: argv passed verbatim, output captured whole, timeouts, cancellation. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mutatingCommand, readCommand } from '../../../src/exec/command.js';
import { RealRunner } from '../../../src/exec/real-runner.js';
import { CommandTimeoutError, MissingToolError } from '../../../src/exec/runner.js';
import { InterruptedError } from '../../../src/errors.js';

describe('RealRunner', () => {
  it('returns exit status, stdout and stderr of a failing program without throwing', async () => {
    const r = await new RealRunner().run(readCommand('sh', ['-c', 'echo out; echo err >&2; exit 3']));
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  });

  it('passes every argument as one word, never through a shell', async () => {
    const words = ['a b', '$(touch /tmp/kvmctl-never)', ';', "'", '*', ''];
    const r = await new RealRunner().run(readCommand('printf', ['%s|', ...words]));
    expect(r.stdout).toBe(words.map((w) => `${w}|`).join(''));
  });

  it('runs programs with LC_ALL=C.UTF-8 and the rest of the environment', async () => {
    const r = await new RealRunner().run(readCommand('sh', ['-c', 'echo "$LC_ALL $LANG ${PATH:+has-path}"']));
    expect(r.stdout).toBe('C.UTF-8 C.UTF-8 has-path\n');
  });

  it('runs each program in a session of its own, away from kvmctl\'s terminal (no polkit prompt from virsh, no Ctrl-C from the terminal)', async () => {
    // /proc/PID/stat: pid (comm) state ppid pgrp session ...; a session leader's session is its own pid.
    const r = await new RealRunner().run(readCommand('sh', ['-c', 'set -- $(cat /proc/$$/stat); echo "$1 $5 $6"']));
    const [pid, pgrp, session] = r.stdout.trim().split(' ');
    expect(pgrp).toBe(pid);
    expect(session).toBe(pid);
  });

  it('keeps multi-byte characters that straddle pipe chunks', async () => {
    const r = await new RealRunner().run(readCommand('sh', ['-c', 'i=0; while [ $i -lt 40000 ]; do printf "é€"; i=$((i+1)); done']));
    expect(r.stdout).toBe('é€'.repeat(40000));
  });

  it('feeds input as a file that can be reopened as /dev/stdin (how virsh pool-define/vol-create-from read XML) and read from fd 0', async () => {
    const runner = new RealRunner();
    const reopened = await runner.run(readCommand('cat', ['/dev/stdin'], { input: '<pool type="dir"/>\n' }));
    expect(reopened).toMatchObject({ exitCode: 0, stdout: '<pool type="dir"/>\n' });
    const piped = await runner.run(readCommand('wc', ['-c'], { input: 'x'.repeat(100000) }));
    expect(piped).toMatchObject({ exitCode: 0, stdout: '100000\n' });
  });

  it('leaves no temporary file behind, whether the program succeeds, fails or times out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmctl-runner-'));
    try {
      const runner = new RealRunner(undefined, dir);
      await runner.run(readCommand('cat', [], { input: 'in' }));
      await runner.run(readCommand('sh', ['-c', 'exit 4']));
      await runner.run(readCommand('sleep', ['30'], { timeoutMs: 50 })).catch(() => undefined);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the package of a program that is not installed', async () => {
    const err = await new RealRunner().run(readCommand('virsh-kvmctl-missing', [])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingToolError);
    expect((err as Error).message).toBe('virsh-kvmctl-missing is not installed (needed to run this command)');
  });

  it('kills a program that outlives its timeout', async () => {
    const err = await new RealRunner().run(readCommand('sleep', ['30'], { timeoutMs: 100 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect((err as Error).message).toBe('sleep 30 did not finish within 100 ms');
  });

  it('kills with SIGKILL a program that ignores the SIGTERM of its timeout', async () => {
    const ignoresTerm = readCommand(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { timeoutMs: 200 });
    const err = await new RealRunner().run(ignoresTerm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandTimeoutError);
  }, 15_000);

  it('stops the programs still running when kvmctl exits first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmctl-runner-'));
    try {
      const pidFile = join(dir, 'pid');
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/unit/fixtures/exit-with-child.ts', pidFile], { encoding: 'utf8' });
      expect(r.status).toBe(130);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      // SIGTERM was sent as kvmctl exited. Orphaned, the program may linger as a zombie until init reaps it: that counts as gone.
      const gone = () => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').startsWith('Z');
        } catch {
          return true;
        }
      };
      for (let i = 0; i < 50 && !gone(); i++) await new Promise((res) => setTimeout(res, 20));
      expect(gone()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a program killed by a signal', async () => {
    const err = await new RealRunner().run(readCommand('sh', ['-c', 'kill -9 $$'])).catch((e: unknown) => e);
    expect((err as Error).message).toBe('could not run sh: it was killed by SIGKILL');
  });

  it('cancels a read when the signal fires, and does not start one after it fired', async () => {
    const controller = new AbortController();
    const runner = new RealRunner(controller.signal);
    const running = runner.run(readCommand('sleep', ['30']));
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
    await expect(runner.run(readCommand('sh', ['-c', 'echo ran']))).rejects.toThrow('interrupted while running sh');
  });

  it('lets a write finish when the signal fires, so its undo is known', async () => {
    const controller = new AbortController();
    const runner = new RealRunner(controller.signal);
    const running = runner.run(mutatingCommand('sh', ['-c', 'sleep 0.3; echo written']));
    setTimeout(() => controller.abort(), 50);
    await expect(running).resolves.toEqual({ stdout: 'written\n', stderr: '', exitCode: 0 });
  });
});
