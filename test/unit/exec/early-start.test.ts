/**
 * A session started before the bundle loads (src/early.ts, src/exec/early-start.ts):
 * which words start one, and that the run takes over that very process, or stops
 * it and removes its directory when the run does not ask for it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCommand } from '../../../src/exec/command.js';
import { startEarly, startEarlyRuns } from '../../../src/exec/early-start.js';
import { RealRunner } from '../../../src/exec/real-runner.js';
import { MissingToolError } from '../../../src/exec/runner.js';
import { EARLY_COMMANDS, earlyPlan, earlySessionCommand, startEarlyProcesses } from '../../../src/early.js';
import { spawnConversation } from '../../../src/exec/conversation.js';
import { sessionCommand } from '../../../src/libvirt/virsh-session.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { runKvmctl, stubRecordedSession, URI } from '../../support/harness.js';
import { stubStorage } from '../../support/storage.js';

/** The session vm list held against a lab (test/fixtures/recorded/session/record.sh). */
const SESSION = JSON.parse(readFileSync('test/fixtures/recorded/session/vm-list.json', 'utf8')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
};

const LAB = 'qemu+unix:///system?socket=/var/tmp/lab/libvirt-sock';
const w = (line: string) => line.split(' ');

describe('which runs start their virsh processes early', () => {
  it('vm list, with the URI it will use: -c (before or after the verb), --connect=, $KVMCTL_URI, $LIBVIRT_DEFAULT_URI, qemu:///system', () => {
    expect(Object.keys(EARLY_COMMANDS)).toEqual(['vm list', 'volume list']);
    expect(earlySessionCommand(w('vm list'), {})).toEqual(sessionCommand('qemu:///system'));
    expect(earlySessionCommand(['-c', LAB, 'vm', 'list'], {})).toEqual(sessionCommand(LAB));
    expect(earlySessionCommand(['vm', 'list', '-c', LAB, '-o', 'json', '--state', 'running'], {})).toEqual(sessionCommand(LAB));
    expect(earlySessionCommand([`--connect=${LAB}`, '-q', '--wide', '--no-color', 'vm', 'list'], {})).toEqual(sessionCommand(LAB));
    expect(earlySessionCommand(w('vm list'), { KVMCTL_URI: LAB, LIBVIRT_DEFAULT_URI: 'test:///default' })).toEqual(sessionCommand(LAB));
    expect(earlySessionCommand(w('vm list'), { LIBVIRT_DEFAULT_URI: 'test:///default' })).toEqual(sessionCommand('test:///default'));
  });

  it('is exactly the conversation vm list then asks for (so the run claims it)', async () => {
    for (const words of [['vm', 'list'], ['vm', 'list', '-o', 'json', '--wide']]) {
      const runner = stubRecordedSession(new FakeRunner(), SESSION.sessions[0]!, SESSION.tokens[0]!);
      const r = await runKvmctl(words, runner);
      expect(r.code).toBe(0);
      expect(runner.calls).toEqual([earlySessionCommand(['-c', 'qemu:///system', ...words], {})]);
    }
  });

  it("volume list: its first two batches, exactly the runs it then makes (the pools' names, or the named pool, beside every VM's disks)", async () => {
    for (const [words, pools] of [[['volume', 'list'], undefined], [['volume', 'list', '-o', 'json'], undefined], [['volume', 'list', '--pool', 'p'], ['p']], [['volume', 'list', '--wide', '--pool=p'], ['p']]] as const) {
      const plan = earlyPlan(['-c', URI, ...words], {});
      expect(plan && 'runs' in plan ? plan.runs : undefined).toHaveLength(2);
      const runner = stubStorage(new FakeRunner(), 'inuse', { users: ['web', 'old'], ...(pools && { only: [...pools] }) });
      const r = await runKvmctl([...words], runner);
      expect(r.code).toBe(0);
      expect(runner.calls.slice(0, 2)).toEqual((plan as { runs: unknown[] }).runs);
    }
    // A session is for vm list only; volume list's runs are plain batches.
    expect(earlySessionCommand(w('volume list'), {})).toBeUndefined();
  });

  it.each([
    ['another verb', w('vm info web1'), {}],
    ['volume list with an option of vm list', w('volume list --state running'), {}],
    ['vm list with an option of volume list', w('vm list --pool p'), {}],
    ['volume list of several hosts (-H)', w('-H all volume list'), {}],
    ['volume list on another host (ssh)', w('-c qemu+ssh://root@kvm1/system volume list --pool p'), {}],
    ['volume list with --pool given twice', w('volume list --pool p --pool q'), {}],
    ['the noun alone', w('vm'), {}],
    ['names only (one batch)', w('vm list --name-only'), {}],
    ['-o name (one batch)', w('vm list -o name'), {}],
    ['help', w('vm list --help'), {}],
    ['an option it does not know', w('vm list --bogus'), {}],
    ['a state vm list refuses', w('vm list --state bogus'), {}],
    ['-H (the inventory\'s hosts)', w('-H all vm list'), {}],
    ['an option given twice', ['-c', LAB, '-c', 'test:///default', 'vm', 'list'], {}],
    ['an option without its value', w('vm list -c'), {}],
    ['another host (ssh)', w('-c qemu+ssh://root@kvm1/system vm list'), {}],
    ['a per-user daemon', w('-c qemu:///session vm list'), {}],
    ['a malformed URI', w('-c nonsense vm list'), {}],
    ["vm list's option before its noun", w('--state running vm list'), {}],
    ["vm list's option before its verb", w('vm --state running list'), {}],
    ["volume list's option before its noun", w('--pool p volume list'), {}],
    ['the two words as one', ['vm list'], {}],
    ['a word more', w('vm list web1'), {}],
    ['an empty --pool=', w('volume list --pool='), {}],
    ['an option where --pool wants its value', w('volume list --pool -q'), {}],
    ['an empty URI', ['-c', '', 'vm', 'list'], {}],
    ['fault injection', w('vm list'), { KVMCTL_FAULT: 'virsh:fail' }],
  ])('not for %s', (_what, words, env) => {
    expect(earlyPlan(words, env)).toBeUndefined();
  });
});

/** A shell that prints its pid at once (before any input), then answers each line with it, and `err LINE` on stderr. */
const ECHO = readCommand('sh', ['-c', 'echo "pid $$"; while IFS= read -r l; do printf "%s\\n" "$l"; printf "err %s\\n" "$l" >&2; done'], { privateDirs: ['XDG_CACHE_HOME'] });

describe('a process started early', () => {
  it('is the one the run converses with, what it printed before being claimed included', async () => {
    const early = startEarly(ECHO);
    const c = new RealRunner(undefined, undefined, early).converse(ECHO);
    const reply = await c.send('a\n', { stdout: 'a\n', stderr: 'err a\n' });
    const pid = Number(/^pid (\d+)\n/.exec(reply.stdout)?.[1]);
    expect(reply).toEqual({ stdout: `pid ${pid}\na\n`, stderr: 'err a\n' });
    expect(early.claim(ECHO)).toBeUndefined();
    expect(await c.end()).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    await early.release();
  });

  it('is claimed only by the same command (words, environment, private directories)', async () => {
    const early = startEarly(ECHO);
    expect(early.claim({ ...ECHO, args: [...ECHO.args, 'x'] })).toBeUndefined();
    expect(early.claim({ ...ECHO, env: { A: '1' } })).toBeUndefined();
    expect(early.claim({ ...ECHO, privateDirs: [] })).toBeUndefined();
    expect(early.claim({ ...ECHO, mutates: true })).toBeUndefined();
    const claimed = early.claim(ECHO);
    expect(claimed?.child.pid).toBeGreaterThan(0);
    claimed!.child.kill('SIGTERM');
    await new Promise((r) => claimed!.child.once('close', r));
    // Its directories are the claimer's now: still there until it removes them.
    for (const d of Object.values(claimed!.dirs)) {
      expect(existsSync(d)).toBe(true);
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('unclaimed, is stopped at release and its private directory removed; the run spawns its own', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-early-test-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const pidFile = join(tmp, 'sleeper.pid');
      const sleeper = readCommand('sh', ['-c', `echo $$ > '${pidFile}'; exec sleep 30`], { privateDirs: ['XDG_CACHE_HOME'] });
      const early = startEarly(sleeper);
      expect(readdirSync(tmp).filter((f) => f !== 'sleeper.pid')).toEqual([expect.stringMatching(/^kvmctl-private-/)]);
      const mine = new RealRunner(undefined, undefined, early).converse(ECHO);
      const reply = await mine.send('b\n', { stdout: 'b\n', stderr: 'err b\n' });
      expect(reply.stdout).toMatch(/^pid \d+\nb\n$/);
      await mine.end();
      await early.release();
      // Stopped, not waited out (sleep 30): release resolves once the process has closed, and it is gone.
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(1);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(readdirSync(tmp)).toEqual(['sleeper.pid']);
      expect(early.claim(sleeper)).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('nothing starts when its directory cannot be made (no TMPDIR): no early start, nothing left; a spawn that throws leaves no directory', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-early-tmp-'));
    const saved = process.env.TMPDIR;
    try {
      process.env.TMPDIR = join(tmp, 'missing');
      expect(startEarlyProcesses(['node', 'kvmctl', '-c', 'test:///default', 'vm', 'list'], {})).toBeUndefined();
      process.env.TMPDIR = tmp;
      // A NUL in an argument makes spawn throw after the directory was made.
      expect(() => spawnConversation(readCommand('sh', ['-c', 'a\0b'], { privateDirs: ['XDG_CACHE_HOME'] }))).toThrow();
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a program that cannot start is not claimed: the run reports it missing as it would have', async () => {
    const missing = readCommand('kvmctl-no-such-program', []);
    const early = startEarly(missing);
    await new Promise((r) => setTimeout(r, 50));
    expect(early.claim(missing)).toBeUndefined();
    await early.release();
    const c = new RealRunner(undefined, undefined, early).converse(missing);
    await expect(c.send('x\n', { stdout: 'x\n', stderr: 'x\n' })).rejects.toBeInstanceOf(MissingToolError);
  });
});

/** A run that prints its pid and a line on stderr, then exits. */
const SAY = readCommand('sh', ['-c', 'echo "pid $$"; echo said >&2']);

describe('a run started early', () => {
  it("is the process the run reads, claimed even after it has exited (its output waits in the pipes); once", async () => {
    const early = startEarlyRuns([SAY]);
    await new Promise((r) => setTimeout(r, 100));
    const runner = new RealRunner(undefined, undefined, early);
    const first = await runner.run(SAY);
    expect(first).toEqual({ stdout: expect.stringMatching(/^pid \d+\n$/), stderr: 'said\n', exitCode: 0 });
    // The next run of the same command is a process of its own.
    const second = await runner.run(SAY);
    expect(second.stdout).not.toBe(first.stdout);
    expect(early.claimRun(SAY)).toBeUndefined();
    await early.release();
  });

  it('is claimed only by the same command; unclaimed, release stops it (not waited out) and the run spawns its own', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-early-run-'));
    try {
      const pidFile = join(tmp, 'sleeper.pid');
      const sleeper = readCommand('sh', ['-c', `echo $$ > '${pidFile}'; exec sleep 30`]);
      const early = startEarlyRuns([sleeper, SAY]);
      expect(early.claimRun({ ...sleeper, args: [...sleeper.args, 'x'] })).toBeUndefined();
      expect(early.claimRun({ ...sleeper, env: { A: '1' } })).toBeUndefined();
      expect(early.claimRun({ ...sleeper, mutates: true })).toBeUndefined();
      expect(early.claimRun({ ...sleeper, input: '' })).toBeUndefined();
      // A conversation of the same words is another kind of process.
      expect(early.claim(sleeper)).toBeUndefined();
      const said = await new RealRunner(undefined, undefined, early).run(SAY);
      expect(said.exitCode).toBe(0);
      for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(1);
      await early.release();
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(early.claimRun(sleeper)).toBeUndefined();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('when a later one cannot be spawned, the ones started before it are stopped and nothing is returned', async () => {
    // A sleep of a length no other test uses, found again by its command line.
    const first = readCommand('sleep', ['31.4159']);
    const running = () =>
      readdirSync('/proc').filter((p) => {
        try {
          return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x0031.4159\x00' && !readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
        } catch {
          return false;
        }
      });
    // A NUL in an argument makes spawn throw.
    expect(() => startEarlyRuns([first, readCommand('sh', ['-c', 'a\0b'])])).toThrow();
    for (let i = 0; i < 300 && running().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(running()).toEqual([]);
  });

  it('unclaimed and deaf to SIGTERM, release gives it SIGKILL after the grace period', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-early-deaf-'));
    try {
      const pidFile = join(tmp, 'deaf.pid');
      // An ignored signal stays ignored across exec: sleep itself ignores SIGTERM.
      const deaf = readCommand('sh', ['-c', `trap '' TERM; echo $$ > '${pidFile}'; exec sleep 60`]);
      const early = startEarlyRuns([deaf]);
      for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(1);
      // Without SIGKILL, release would wait out sleep 60, past this test's timeout.
      await early.release();
      expect(existsSync(`/proc/${pid}`)).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 20_000);

  it('a program that cannot start is not claimed: the run reports it missing as it would have', async () => {
    const missing = readCommand('kvmctl-no-such-program', []);
    const early = startEarlyRuns([missing]);
    await new Promise((r) => setTimeout(r, 50));
    expect(early.claimRun(missing)).toBeUndefined();
    await expect(new RealRunner(undefined, undefined, early).run(missing)).rejects.toBeInstanceOf(MissingToolError);
    await early.release();
  });
});
