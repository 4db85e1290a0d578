/**
 * A process fed in rounds (src/exec/conversation.ts) with real programs, and
 * the runners that wrap one: -v prints what is written, dry-run and fault
 * injection let reads through and refuse writes, a host's deadline bounds it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mutatingCommand, readCommand } from '../../../src/exec/command.js';
import { ConversationEndedError } from '../../../src/exec/conversation.js';
import { DeadlineRunner } from '../../../src/exec/deadline-runner.js';
import { DryRunRunner, VerboseRunner } from '../../../src/exec/dry-run.js';
import { FaultRunner } from '../../../src/exec/fault.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { RealRunner } from '../../../src/exec/real-runner.js';
import { CommandTimeoutError, MissingToolError } from '../../../src/exec/runner.js';
import { InterruptedError } from '../../../src/errors.js';

/** A shell that answers each line with it on stdout, then `err LINE` on stderr. */
const ECHO = readCommand('sh', ['-c', 'while IFS= read -r l; do printf "%s\\n" "$l"; printf "err %s\\n" "$l" >&2; done']);
const until = (word: string) => ({ stdout: `${word}\n`, stderr: `err ${word}\n` });

describe('conversations with real programs', () => {
  it('answers round after round from one process; text after a round\'s end waits for the next', async () => {
    const c = new RealRunner().converse(ECHO);
    expect(await c.send('a\nb\n', until('b'))).toEqual({ stdout: 'a\nb\n', stderr: 'err a\nerr b\n' });
    expect(await c.send('c\nd\n', until('c'))).toEqual({ stdout: 'c\n', stderr: 'err c\n' });
    expect(await c.send('e\n', until('e'))).toEqual({ stdout: 'd\ne\n', stderr: 'err d\nerr e\n' });
    expect(await c.end()).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });

  it('runs its program in a session of its own, as every run does (no polkit warning from virsh on a terminal, no Ctrl-C from it)', async () => {
    // /proc/PID/stat: pid (comm) state ppid pgrp session ...; a session leader's session is its own pid.
    const c = new RealRunner().converse(readCommand('sh', ['-c', 'read -r l; set -- $(cat /proc/$$/stat); echo "$1 $5 $6"; echo END >&2; cat >/dev/null']));
    const r = await c.send('go\n', { stdout: '\n', stderr: 'END\n' });
    const [pid, pgrp, session] = r.stdout.trim().split(' ');
    expect(pgrp).toBe(pid);
    expect(session).toBe(pid);
    await c.end();
  });

  it('passes its environment (LC_ALL=C.UTF-8 still wins) and keeps multi-byte characters split across chunks', async () => {
    const c = new RealRunner().converse(readCommand('sh', ['-c', 'read -r l; printf "%s %s\\n" "$INPUTRC" "$LC_ALL"; i=0; while [ $i -lt 40000 ]; do printf "é€"; i=$((i+1)); done; printf "\\nEND\\n"; echo END >&2; cat >/dev/null'], { env: { INPUTRC: '/dev/null', LC_ALL: 'fr_FR' } }));
    const r = await c.send('go\n', { stdout: 'END\n', stderr: 'END\n' });
    expect(r.stdout).toBe(`/dev/null C.UTF-8\n${'é€'.repeat(40000)}\nEND\n`);
    await c.end();
  });

  it('finds a terminator written in pieces, after thousands of one-line writes', async () => {
    const c = new RealRunner().converse(readCommand('sh', ['-c', 'read -r l; i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; printf "MAR"; sleep 0.05; printf "K\\nafter"; printf "MA" >&2; printf "RK\\n" >&2; cat >/dev/null']));
    const r = await c.send('go\n', { stdout: 'MARK\n', stderr: 'MARK\n' });
    expect(r.stdout).toBe(`${Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('')}MARK\n`);
    expect(r.stderr).toBe('MARK\n');
    expect(await c.end()).toEqual({ stdout: 'after', stderr: '', exitCode: 0 });
  });

  it('privateDirs: each named variable is an empty directory of the program\'s own, removed once it exits', async () => {
    const c = new RealRunner().converse(readCommand('sh', ['-c', 'read -r l; ls -A "$XDG_CACHE_HOME"; echo "$XDG_CACHE_HOME"; touch "$XDG_CACHE_HOME/history"; echo END >&2'], { privateDirs: ['XDG_CACHE_HOME'] }));
    const r = await c.send('go\n', { stdout: '\n', stderr: 'END\n' });
    const dir = r.stdout.trim();
    expect(dir).toMatch(/kvmctl-private-/);
    await c.end();
    expect(existsSync(dir)).toBe(false);
  });

  it('a program that exits before it answers fails the round with what it printed and its status', async () => {
    const c = new RealRunner().converse(readCommand('sh', ['-c', 'echo "error: failed to connect to the hypervisor" >&2; exit 1']));
    const e = await c.send('x\n', until('x')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConversationEndedError);
    expect((e as ConversationEndedError).result).toEqual({ stdout: '', stderr: 'error: failed to connect to the hypervisor\n', exitCode: 1 });
    await expect(c.send('y\n', until('y'))).rejects.toBeInstanceOf(ConversationEndedError);
  });

  it('its timeout and the signal stop it mid-round; a missing program is MissingToolError', async () => {
    const slow = new RealRunner().converse({ ...ECHO, timeoutMs: 200 });
    await expect(slow.send('a\n', until('never'))).rejects.toBeInstanceOf(CommandTimeoutError);
    const ctl = new AbortController();
    const c = new RealRunner(ctl.signal).converse(ECHO);
    setTimeout(() => ctl.abort(), 100);
    await expect(c.send('a\n', until('never'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(new RealRunner().converse(readCommand('kvmctl-no-such-program', [])).send('a\n', until('a'))).rejects.toBeInstanceOf(MissingToolError);
  });
});

describe('runners around a conversation', () => {
  it('-v prints the command once and each line written to it, control characters escaped', async () => {
    const lines: string[] = [];
    const fake = new FakeRunner().stubConversation(['sh', '-c', 'x'], () => ({ stdout: 'ok\n', stderr: '.\n' }), 1);
    const c = new VerboseRunner(fake, (t) => lines.push(t)).converse!(readCommand('sh', ['-c', 'x']));
    await c.send('one\ntw\u001bo\n', { stdout: 'ok\n', stderr: '.\n' });
    await c.end();
    expect(lines).toEqual(["+ sh -c x (reading its input in rounds)\n", '< one\n', '< tw\\u001bo\n']);
  });

  it('dry-run and fault injection pass reads through and refuse a conversation that would change state', () => {
    const fake = new FakeRunner().stubConversation(['virsh', '-c', 'u'], () => ({}), 0);
    const dry = new DryRunRunner(fake, () => undefined);
    expect(dry.converse!(readCommand('virsh', ['-c', 'u']))).toBeDefined();
    expect(() => dry.converse!(mutatingCommand('virsh', ['-c', 'u']))).toThrow(/changes state cannot be fed its input in rounds/);
    const fault = new FaultRunner(new FakeRunner(), { mode: 'fail', at: 1 });
    expect(() => fault.converse!(mutatingCommand('virsh', ['-c', 'u']))).toThrow(/changes state/);
  });

  it('a host\'s deadline is the conversation\'s timeout; a runner that cannot converse leaves its wrappers without converse', () => {
    const fake = new FakeRunner().stubConversation((c) => c.timeoutMs !== undefined && c.timeoutMs <= 5000 && c.timeoutMs > 4000, () => ({}), 0);
    new DeadlineRunner(fake, Date.now() + 5000).converse!(readCommand('virsh', ['-c', 'u']));
    const plain = { run: fake.run.bind(fake) };
    expect(new VerboseRunner(plain, () => undefined).converse).toBeUndefined();
    expect(new DeadlineRunner(plain, Date.now()).converse).toBeUndefined();
  });
});
