/**
 * Hostile names through every verb that looks an object up, at the argv level:
 * main() over a runner that records each command and answers like libvirt does
 * for a name that does not exist. Whatever the name holds (; | & $( ) `
 * quotes, newlines, a leading '-', XML), it reaches a tool only as one whole
 * argv element, or as one whole word of a virsh batch (checked with a parser
 * of virsh's command-string rules); no shell is ever started; nothing that
 * changes state runs; the user gets "not found" naming the object.
 */
import { describe, expect, it } from 'vitest';
import type { Command, CommandResult } from '../../src/exec/command.js';
import type { Runner } from '../../src/exec/runner.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { main } from '../../src/main.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { virshCommands } from '../support/virsh-parser.js';

const URI = 'qemu:///system';
const SHELLS = ['sh', 'bash', 'dash', 'zsh', 'env', 'xargs'];

/** Listing commands answer with nothing: a host with no objects at all. */
const LISTS = new Set(['list', 'domstats', 'pool-list', 'net-list', 'nodeinfo', 'nodememstats', 'capabilities', 'version', 'echo']);

function notFound(verb: string): string {
  const what = verb.startsWith('pool')
    ? 'Storage pool not found: no storage pool with matching name'
    : verb.startsWith('vol')
      ? 'Storage volume not found: no storage vol with matching name'
      : verb.startsWith('net')
        ? 'Network not found: no network with matching name'
        : verb.startsWith('snapshot')
          ? 'Domain snapshot not found: no domain snapshot with matching name'
          : 'Domain not found: no domain with matching name';
  return `error: ${what} 'x'\n`;
}

/** Records every command and answers as libvirt does on a host where no object exists. */
class MissingEverything implements Runner {
  readonly calls: Command[] = [];
  async run(cmd: Command): Promise<CommandResult> {
    this.calls.push(cmd);
    if (cmd.program !== 'virsh') return { stdout: '', stderr: 'Device "x" does not exist.\n', exitCode: 1 };
    const commands = cmd.args.length === 3 ? virshCommands(cmd.args[2]!) : [cmd.args.slice(2)];
    const failing = commands.filter((w) => !LISTS.has(w[0] ?? ''));
    if (failing.length === 0) return { stdout: '', stderr: '', exitCode: 0 };
    return { stdout: '', stderr: failing.map((w) => notFound(w[0] ?? '')).join(''), exitCode: 1 };
  }
}

const NAMES = ['a;b', 'x y', '-x', '--domain victim', "a'b", 'a"b', 'a\\b', '$(touch /tmp/pwned)', '`reboot`', 'a|b&c', 'a\nundefine victim', 'a<b>&c', "'; undefine --domain victim; echo '", 'é', '#x', '*', '~root'];

/** Verbs that take an existing object's name, with the name put last after -- so that '-x' stays a name. */
const VERBS: Array<{ noun: string; build: (n: string) => string[] }> = [
  ...['info', 'xml', 'start', 'reboot', 'suspend', 'resume', 'destroy', 'delete', 'log'].map((v) => ({ noun: 'vm', build: (n: string) => ['vm', v, '--', n] })),
  { noun: 'vm', build: (n) => ['vm', 'stop', '--timeout', '0', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'delete', '--force', '--remove-storage', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'ip', '--source', 'lease', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'autostart', '--disable', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'set', '--vcpus', '2', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'wait', '--for', 'running', '--timeout', '0', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'snapshot', 'list', '--', n] },
  { noun: 'vm', build: (n) => ['vm', 'snapshot', 'revert', '--', 'web1', n] },
  { noun: 'vm', build: (n) => ['vm', 'snapshot', 'delete', '--', n, 'snap1'] },
  { noun: 'vm', build: (n) => ['vm', 'clone', '--', n, 'copy1'] },
  ...['info', 'start', 'stop', 'delete'].map((v) => ({ noun: 'pool', build: (n: string) => ['pool', v, '--', n] })),
  { noun: 'pool', build: (n) => ['pool', 'autostart', '--disable', '--', n] },
  ...['info', 'delete'].map((v) => ({ noun: 'volume', build: (n: string) => ['volume', v, '--', `p/${n}`] })),
  { noun: 'volume', build: (n) => ['volume', 'resize', '--', `p/${n}`, '+1G'] },
  { noun: 'volume', build: (n) => ['volume', 'snapshot', 'list', '--', `p/${n}`] },
  ...['info', 'start', 'stop', 'delete', 'leases'].map((v) => ({ noun: 'net', build: (n: string) => ['net', v, '--', n] })),
  { noun: 'net', build: (n) => ['net', 'autostart', '--disable', '--', n] },
  { noun: 'net', build: (n) => ['net', 'reserve', '--mac', '52:54:00:00:00:01', '--ip', '10.0.0.5', '--', n] },
];

async function run(args: string[]): Promise<{ code: number; err: string; calls: Command[] }> {
  const runner = new MissingEverything();
  const io = memoryIO({ KVMCTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kvmctl-hostile-unit-')) });
  const code = await main(['node', 'kvmctl', '-c', URI, ...args], { io, runner, fs: memoryFs({}), version: 'test', signal: new AbortController().signal, argv: args });
  return { code, err: io.err, calls: runner.calls };
}

const cases = VERBS.flatMap((v) => NAMES.map((name) => ({ args: v.build(name), name })));
// Volume names are checked as POOL/NAME: one with '/' never gets that far, and is not what this file is about.
const relevant = cases.filter((c) => !(c.args[0] === 'volume' && c.name.includes('/')));

/**
 * What a run did, with the name replaced by <NAME>: programs, argv, and for a
 * batch the words virsh itself will see. A name that is quoted right yields
 * the same shape as a plain one; one that leaks splits or adds words.
 */
function shape(calls: Command[], name: string): string[] {
  const sub = (w: string) => (w === name ? '<NAME>' : w === `p/${name}` ? 'p/<NAME>' : w);
  return calls.map((c) => {
    const batch = c.program === 'virsh' && c.args.length === 3 && c.args[0] === '-c';
    const words = batch ? virshCommands(c.args[2]!).map((ws) => ws.map(sub).join(' ')).join(' ; ') : c.args.map(sub).join(' ');
    return `${c.program}${c.mutates ? ' (mutates)' : ''}: ${words}`;
  });
}

describe(`${relevant.length} hostile names through ${VERBS.length} verbs: one argv element, never a shell, nothing changed`, () => {
  it.each(relevant)('$args', async ({ args, name }) => {
    const r = await run(args);
    expect(r.code, r.err).not.toBe(0);
    // Refused (2) for a name the verb cannot hold, else not found (3) or refused (5) once libvirt says so.
    expect([2, 3, 5], r.err).toContain(r.code);
    expect(r.err).toMatch(/^kvmctl: error: /);
    for (const c of r.calls) expect(SHELLS).not.toContain(c.program);
    // At most the verb's own step was tried, and libvirt refused it: a lookup fails before anything else changes.
    expect(r.calls.filter((c) => c.mutates).length, r.calls.map((c) => [c.program, ...c.args].join(' ')).join('\n')).toBeLessThanOrEqual(1);
    if (r.code === 2) return;
    // The same commands, word for word, as for a plain name: the hostile one stayed one word everywhere.
    const plain = await run(args.map((a) => (a === name ? 'plainname' : a === `p/${name}` ? 'p/plainname' : a)));
    expect(shape(r.calls, name)).toEqual(shape(plain.calls, 'plainname'));
    expect(r.code).toBe(plain.code);
  });
});

describe('the virsh command-string parser used above', () => {
  it('splits like virsh: quotes keep ; and blanks, a bare ; separates', () => {
    expect(virshCommands(`dominfo --domain 'a;b' ; echo X ; list`)).toEqual([['dominfo', '--domain', 'a;b'], ['echo', 'X'], ['list']]);
    expect(virshCommands(`dominfo 'a'\\''b'`)).toEqual([['dominfo', "a'b"]]);
    expect(virshCommands(`dominfo a;undefine b`)).toEqual([['dominfo', 'a'], ['undefine', 'b']]);
  });
});
