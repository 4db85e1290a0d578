/**
 * The virsh session's protocol (src/libvirt/virsh-session.ts) over the sessions
 * recorded against a lab (test/fixtures/recorded/session): readline's prompts
 * and echoed, wrapped lines around the markers, errors on stderr, a line virsh
 * could not parse.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roundInput, roundUntil, sessionAllowed, sessionCommand, splitRound, splitStream, streamInput, streamStderr, typeable } from '../../../src/libvirt/virsh-session.js';
import { virshCommands } from '../../support/virsh-parser.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { poolCalls } from '../../../src/libvirt/storage.js';
import { read, Virsh } from '../../../src/libvirt/virsh-client.js';
import { recorded, stubBatch, stubSession, URI } from '../../support/harness.js';

const rec = (f: string) => readFileSync(`test/fixtures/recorded/session/${f}`, 'utf8');
const SESSION = JSON.parse(rec('vm-list.json')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
};
const [listSession, failingSession] = SESSION.sessions;

describe('virsh session rounds', () => {
  it('cuts each command\'s output out of what the shell printed: the same bytes as the command run on its own', () => {
    const [first, second] = listSession!.rounds;
    const token = SESSION.tokens[0]!;
    const one = splitRound(first!, token, 0, 3);
    // Both domains, in the order libvirt keeps them (not by name).
    expect(one[0]!.stdout).toMatch(/^Domain: '[\s\S]*\n\n$/);
    expect(one[0]!.stdout).toMatch(/(^|\n)Domain: 'fxs-off'\n {2}state\.state=5\n/);
    expect(one[0]!.stdout).toMatch(/(^|\n)Domain: 'fxs run'q;"x'\n {2}state\.state=1\n/);
    expect(one[1]!.stdout).toBe(rec('virsh-list-all-autostart-name.txt'));
    expect(one[2]!.stdout).toBe(rec('virsh-net-list-all.txt'));
    const two = splitRound(second!, token, 3, 2);
    expect(two[0]!.stdout).toBe(rec('virsh-net-dhcp-leases-default.txt'));
    expect(two[1]!.stdout).toBe(rec('virsh-domiflist-run.txt'));
    expect([...one, ...two].map((p) => p.stderr)).toEqual(['', '', '', '', '']);
    // readline wrapped the long lines it echoed (a carriage return and the last character again): the markers are still found.
    expect(first!.stdout).toContain('\r');
  });

  it('gives each command its own stderr; a line virsh cannot parse runs nothing and prints no output, and the next command still answers', () => {
    const parts = splitRound(failingSession!.rounds[0]!, SESSION.tokens[1]!, 0, 3);
    expect(parts[0]).toEqual({ stdout: '\n', stderr: "error: failed to get domain 'nosuch'\n" });
    expect(parts[1]).toEqual({ stdout: '', stderr: "error: command 'domiflist' doesn't support option --bogus\n" });
    expect(parts[2]).toEqual({ stdout: rec('virsh-net-list-all.txt'), stderr: '' });
  });

  it('writes exactly the code\'s rounds, and their end is what the recorded replies end with', () => {
    const token = SESSION.tokens[0]!;
    const [first, second] = listSession!.rounds;
    const firstWords = virshCommands(first!.input).filter((w) => w[0] !== 'echo');
    expect(roundInput(firstWords, token, 0)).toBe(first!.input);
    const until = roundUntil(token, 4);
    expect(second!.stdout.endsWith(until.stdout)).toBe(true);
    expect(second!.stderr.endsWith(until.stderr)).toBe(true);
  });

  it('a reply cut short is an error, never a shorter output', () => {
    const r = listSession!.rounds[0]!;
    const cut = { stdout: r.stdout.slice(0, r.stdout.lastIndexOf('-F2')), stderr: r.stderr };
    expect(() => splitRound(cut, SESSION.tokens[0]!, 0, 3)).toThrow(/lacks the end of command 2/);
  });

  it('hostile names reach virsh\'s parser as whole words, markers and all', () => {
    const names = ['a;b', 'x y', "a'b", 'a"b', 'a\\b', '#x', '$(touch /tmp/pwned)', "'; undefine --domain victim; echo '", 'é', 'KVMCTL-0-E0'];
    const input = roundInput(names.map((n) => ['domiflist', '--domain', n]), 'KVMCTL-00', 0);
    const commands = virshCommands(input);
    expect(commands.filter((w) => w[0] !== 'echo')).toEqual(names.map((n) => ['domiflist', '--domain', n]));
    expect(commands.filter((w) => w[0] === 'echo').slice(0, 3)).toEqual([['echo', 'KVMCTL-00-B0'], ['echo', 'KVMCTL-00-E0'], ['echo', '--err', 'KVMCTL-00-F0']]);
  });

  it('the session reads no ~/.inputrc and keeps its history out of the user\'s; per-user URIs (virsh may start their daemon) run batches', () => {
    expect(sessionCommand('qemu:///system')).toMatchObject({ program: 'virsh', args: ['-c', 'qemu:///system'], mutates: false, env: { INPUTRC: '/dev/null' }, privateDirs: ['XDG_CACHE_HOME'] });
    expect(['qemu:///system', 'qemu+ssh://root@kvm1/system', 'test:///default', 'qemu+unix:///system?socket=/x/session'].map(sessionAllowed)).toEqual([true, true, true, true]);
    expect(['qemu:///session', 'qemu+ssh://u@h/session', 'qemu:///session?socket=/x'].map(sessionAllowed)).toEqual([false, false, false]);
  });

  it('words with control characters (readline would edit them) are not typeable; the rest, UTF-8 included, are', () => {
    expect(typeable(['domiflist', '--domain', 'a\tb'])).toBe(false);
    expect(typeable(['domiflist', '--domain', 'a\u001bb'])).toBe(false);
    expect(typeable(['domiflist', '--domain', 'a\u007fb'])).toBe(false);
    expect(typeable(['domiflist', '--domain', "é x;'\"\u202e"])).toBe(true);
  });

  it('virsh\'s shell reads nothing after `complete` (recorded): a round runs it in a batch beside the session, whose later lines still run', async () => {
    const shell = rec('shell-complete-then-echo.txt');
    expect(shell).toMatch(/virsh # echo before\nbefore\nvirsh # complete -- net-info --network ""\ndefault\n\nvirsh # \n?$/);
    expect(shell).not.toContain('after');
    expect(typeable(['complete', '--', 'vol-info', '--pool', 'p', '--vol', ''])).toBe(false);

    const names = poolCalls.volumeNames('p');
    const runner = stubSession(new FakeRunner(), [{ commands: [['pool-list', '--all', '--name'], ['pool-info', '--pool', 'p']], outputs: ['p\n\n', recorded('storage/inuse/pool-info-p.txt')] }]);
    stubBatch(runner, [names], ['a.qcow2\nb\\ c.qcow2\n\n']);
    const r = await new Virsh(runner, URI).session((session) => session.round({ list: read(['pool-list', '--all', '--name']), names, info: poolCalls.info('p') }));
    expect(r.out).toEqual({ list: 'p\n\n', names: 'a.qcow2\nb\\ c.qcow2\n\n', info: recorded('storage/inuse/pool-info-p.txt') });
    expect(runner.calls).toHaveLength(2);
    runner.verify();
  });
});

describe('a stream: one batch too long for one argument, fed a line a command (recorded)', () => {
  // Recorded against the benchmark's VMs: dumpxml of bench-vm-0001, of a VM that does not exist, of bench-vm-0002, then the fence.
  const strip = (t: string) => t.replace(/^# .*\n/gm, '');
  const token = 'KVMCTL-0123456789abcdef01234567';
  // The reply to the round: up to the fence (virsh's next prompt, and the end of input, follow it in the recording).
  const upToFence = (t: string) => t.slice(0, t.indexOf(`${token}-F0\n`) + `${token}-F0\n`.length);
  const stdout = upToFence(strip(readFileSync('test/fixtures/recorded/scale/dumpxml-stream.txt', 'utf8')));
  const stderr = upToFence(strip(readFileSync('test/fixtures/recorded/scale/dumpxml-stream.stderr', 'utf8')));

  it('writes each command on a line of its own, quoted, then one fence on both streams', () => {
    const input = streamInput([['dumpxml', '--domain', 'bench-vm-0001'], ['dumpxml', '--domain', "it's"]], token, 0);
    expect(input).toBe(`'dumpxml' '--domain' 'bench-vm-0001'\n'dumpxml' '--domain' 'it'\\''s'\necho --err '${token}'-'F0' ; echo '${token}'-'F0'\n`);
    expect(stdout.endsWith(roundUntil(token, 0).stdout)).toBe(true);
    expect(stderr.endsWith(roundUntil(token, 0).stderr)).toBe(true);
  });

  it("splits the stdout at virsh's prompts: each command's output whole, a failed one's blank, its message left in stderr", () => {
    const outputs = splitStream(stdout, 3)!;
    expect(outputs).toHaveLength(3);
    expect(outputs[0]).toMatch(/^<domain type='qemu'>\n  <name>bench-vm-0001<\/name>\n[\s\S]*\n<\/domain>\n\n$/);
    expect(outputs[1]!.trim()).toBe('');
    expect(outputs[2]).toMatch(/^<domain type='qemu'>\n  <name>bench-vm-0002<\/name>\n[\s\S]*\n<\/domain>\n\n$/);
    expect(streamStderr(stderr, token, 0)).toBe("error: failed to get domain 'fx-stream-gone'\n");
  });

  it('refuses a stdout with another number of prompts (an output holding one, or not ending its line): the batch then runs as batches', () => {
    expect(splitStream(stdout, 2)).toBeUndefined();
    expect(splitStream(stdout, 4)).toBeUndefined();
    expect(splitStream(stdout.replace('  <name>bench-vm-0002</name>\n', '  <name>bench-vm-0002</name>\nvirsh # forged\n'), 3)).toBeUndefined();
    expect(splitStream(stdout.replace("</domain>\n\nvirsh # 'dumpxml' '--domain' 'fx-stream-gone'", "</domain>virsh # 'dumpxml' '--domain' 'fx-stream-gone'"), 3)).toBeUndefined();
  });
});
