/**
 * vm list's first round written into its session's process before the bundle
 * loads (src/early.ts): it is the round vm list sends (replayed from the
 * recorded session), the claiming session reads what that round printed as
 * its answer without writing it again, and a run whose first round differs by
 * a byte does not claim the process, which is then stopped at release.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCommand, type Command } from '../../../src/exec/command.js';
import { startConversation, type Opening } from '../../../src/exec/conversation.js';
import { startEarly } from '../../../src/exec/early-start.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { RealRunner } from '../../../src/exec/real-runner.js';
import { earlyFirstRound } from '../../../src/early.js';
import { runKvmctl, stubRecordedSession } from '../../support/harness.js';

/** The session vm list held against a lab (test/fixtures/recorded/session/record.sh). */
const SESSION = JSON.parse(readFileSync('test/fixtures/recorded/session/vm-list.json', 'utf8')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
};

/** The recorded session replayed, keeping the opening each conversation was asked with. */
function replay(): { runner: FakeRunner; openings: Array<Opening | undefined> } {
  const runner = stubRecordedSession(new FakeRunner(), SESSION.sessions[0]!, SESSION.tokens[0]!);
  const openings: Array<Opening | undefined> = [];
  const converse = runner.converse.bind(runner);
  runner.converse = (cmd: Command, opening?: Opening) => {
    openings.push(opening);
    return converse(cmd);
  };
  return { runner, openings };
}

describe("vm list's first round, written early", () => {
  it('is byte for byte the first round the recorded session was sent, with the early token in place of its own', () => {
    const early = earlyFirstRound(undefined);
    expect(early.token).toMatch(/^KVMCTL-[0-9a-f]{24}$/);
    expect(early.token).not.toBe(earlyFirstRound(undefined).token);
    expect(early.input.split(early.token).join(SESSION.tokens[0]!)).toBe(SESSION.sessions[0]!.rounds[0]!.input);
  });

  it.each([
    ['vm list', ['vm', 'list'], undefined],
    ['-o json --wide', ['vm', 'list', '-o', 'json', '--wide'], undefined],
    ['-v', ['-v', 'vm', 'list'], undefined],
  ] as const)('is what the session of %s makes of that token (so it claims the process)', async (_what, words, state) => {
    const { runner, openings } = replay();
    const r = await runKvmctl([...words], runner);
    expect(r.code).toBe(0);
    expect(openings).toHaveLength(1);
    const early = earlyFirstRound(state);
    expect(openings[0]?.(early.token)).toBe(early.input);
    // What the replayed session was sent first is that opening with the session's own token.
    const sent = runner.sent[0]![0]!;
    const token = /'(KVMCTL-[0-9a-f]{24})'/.exec(sent)?.[1];
    expect(sent).toBe(openings[0]!(token!));
  });

  it('differs for another --state, so a run of vm list --state running does not claim a process given the round of plain vm list', async () => {
    let opening: Opening | undefined;
    // A host with no VMs and no networks: each command prints nothing between its fences.
    const fences = (input: string) => [...input.matchAll(/echo '(KVMCTL-[0-9a-f]{24})'-'(F\d+)'/g)].map((m) => `${m[1]}-${m[2]}\n`);
    const runner = new FakeRunner().stubConversation(
      (cmd) => cmd.program === 'virsh',
      (input) => ({ stdout: fences(input).join(''), stderr: fences(input).map((f) => `error: ${f}`).join('') }),
    );
    const converse = runner.converse.bind(runner);
    runner.converse = (cmd: Command, o?: Opening) => ((opening = o), converse(cmd));
    const r = await runKvmctl(['vm', 'list', '--state', 'running'], runner);
    expect(r.code).toBe(0);
    const plain = earlyFirstRound(undefined);
    const running = earlyFirstRound('running');
    expect(opening?.(plain.token)).not.toBe(plain.input);
    expect(opening?.(running.token)).toBe(running.input);
    expect(running.input).toContain(" '--list-running' ");
  });
});

/** A shell that prints its pid at once, then echoes each line it reads (stdout, and `err LINE` on stderr). */
const ECHO = readCommand('sh', ['-c', 'echo "pid $$"; while IFS= read -r l; do printf "%s\\n" "$l"; printf "err %s\\n" "$l" >&2; done'], { privateDirs: ['XDG_CACHE_HOME'] });
const WRITTEN = { token: 'T1', input: 'a\n' };

describe('a process given its first round early', () => {
  it('is claimed by the same round: that round is answered with what it printed, and is not written again', async () => {
    const early = startEarly(ECHO, WRITTEN);
    const c = new RealRunner(undefined, undefined, early).converse(ECHO, (token) => (token === 'T1' ? 'a\n' : 'other\n'));
    expect(c.token).toBe('T1');
    const reply = await c.send('a\n', { stdout: 'a\n', stderr: 'err a\n' });
    expect(reply).toEqual({ stdout: expect.stringMatching(/^pid \d+\na\n$/), stderr: 'err a\n' });
    const second = await c.send('b\n', { stdout: 'b\n', stderr: 'err b\n' });
    expect(second).toEqual({ stdout: 'b\n', stderr: 'err b\n' });
    // One `a`: the early bytes were its only copy.
    expect(await c.end()).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    await early.release();
  });

  it.each([
    ['a round that differs by a byte', (() => 'a \n') as Opening | undefined],
    ['no round (a run that did not say what it sends)', undefined],
  ])('is not claimed by %s: the run spawns its own process and the early one is stopped at release', async (_what, opening) => {
    const early = startEarly(ECHO, WRITTEN);
    const c = new RealRunner(undefined, undefined, early).converse(ECHO, opening);
    expect(c.token).toBeUndefined();
    const reply = await c.send('b\n', { stdout: 'b\n', stderr: 'err b\n' });
    const pid = Number(/^pid (\d+)\nb\n$/.exec(reply.stdout)?.[1]);
    expect(pid).toBeGreaterThan(1);
    await c.end();
    // Still waiting, unclaimed, with the round it was given: that round alone claims it.
    const claimed = early.claim(ECHO, (token) => (token === 'T1' ? 'a\n' : ''));
    expect(claimed?.written).toEqual(WRITTEN);
    claimed!.child.kill('SIGTERM');
    await new Promise((r) => claimed!.child.once('close', r));
    for (const d of Object.values(claimed!.dirs)) {
      expect(existsSync(d)).toBe(true);
      rmSync(d, { recursive: true, force: true });
    }
    await early.release();
  });

  it('a claimed conversation refuses a first round other than the one written (nothing is sent twice)', async () => {
    const early = startEarly(ECHO, WRITTEN);
    const claimed = early.claim(ECHO, () => 'a\n');
    const c = startConversation(ECHO, undefined, () => () => undefined, claimed, claimed!.written);
    await expect(c.send('x\n', { stdout: 'x\n', stderr: 'err x\n' })).rejects.toThrow('sh: the first round differs from the one written to it before');
    expect(await c.end()).toEqual({ stdout: expect.stringMatching(/^pid \d+\na\n$/), stderr: 'err a\n', exitCode: 0 });
  });
});
