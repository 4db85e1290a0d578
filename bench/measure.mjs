// How the benchmark measures one command: whole-process wall time (runs interleaved
// with the baseline's, median kept), the programs it starts (strace), and its peak
// resident memory (GNU time).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A command as the benchmark runs it: argv, optional stdin, and a label for tables. */
export function cmd(label, argv, input) {
  return { label, argv, input };
}

export class CommandFailed extends Error {
  constructor(command, result) {
    const first = (result.stderr || '').split('\n').find((l) => l.trim() !== '') ?? '';
    super(`${command.label}: exit ${result.status ?? result.signal}${first ? `: ${first.trim()}` : ''}`);
    this.exitCode = result.status;
  }
}

function spawnCommand(command, env, argvPrefix = []) {
  const argv = [...argvPrefix, ...command.argv];
  return spawnSync(argv[0], argv.slice(1), {
    input: command.input,
    encoding: 'utf8',
    env,
    // Output goes to a pipe that is read to the end, as in `kvmctl vm list | grep`.
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  });
}

/** Runs once and returns stdout; throws CommandFailed on a non-zero exit. */
export function runChecked(command, env) {
  const r = spawnCommand(command, env);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new CommandFailed(command, r);
  return r.stdout;
}

/** Wall time of one run (ms); throws CommandFailed on a non-zero exit. */
export function timeOnce(command, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnCommand(command, env);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new CommandFailed(command, r);
  return ms;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times several commands against each other: every round runs each once, in an
 * order that rotates between rounds, so load changes on a shared machine hit all
 * of them alike. Returns the wall times (ms) per command, warm-up rounds dropped.
 */
export async function timeInterleaved(commands, { runs, warmup, env, shouldStop }) {
  const times = commands.map(() => []);
  for (let round = 0; round < warmup + runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      // spawnSync blocks the event loop; yielding lets a SIGINT handler run between runs.
      await new Promise((resolve) => setImmediate(resolve));
      if (shouldStop()) throw new Error('interrupted');
      const i = (k + round) % commands.length;
      const ms = timeOnce(commands[i], env);
      if (round >= warmup) times[i].push(ms);
    }
  }
  return times;
}

/**
 * The programs a command starts, from `strace -f -ff -e trace=execve`: one file per
 * process; the first file holds the command itself (and, for a script, its
 * interpreter), every other one is a subprocess. Only successful execve calls count:
 * a PATH search leaves failed attempts before the one that works.
 */
export function subprocesses(command, env) {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-bench-strace-'));
  try {
    const prefix = join(dir, 'trace');
    const r = spawnCommand(command, env, ['strace', '-f', '-ff', '-qq', '-e', 'trace=execve', '-o', prefix]);
    if (r.status !== 0) throw new CommandFailed(command, r);
    const files = readdirSync(dir)
      .map((f) => ({ pid: Number(f.slice('trace.'.length)), text: readFileSync(join(dir, f), 'utf8') }))
      .filter((f) => /execve\(/.test(f.text));
    // strace's own child is the one that execs argv[0]; pids can wrap, so find it by content.
    const root = files.find((f) => f.text.includes(`execve("${command.argv[0]}"`)) ?? files.sort((a, b) => a.pid - b.pid)[0];
    const programs = {};
    let count = 0;
    for (const f of files) {
      if (f === root) continue;
      for (const m of f.text.matchAll(/^execve\("([^"]+)".*\) = 0$/gm)) {
        const name = basename(m[1]);
        programs[name] = (programs[name] ?? 0) + 1;
        count++;
      }
    }
    return { count, programs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The programs a kvmctl command runs, with their arguments, from its -v trace
 * ("+ virsh -c 'uri' ..." lines, each word shown with POSIX single quoting); a
 * session as { argv, input } with every line written to it.
 */
export function tracedCommands(kvmctlArgv, env) {
  // -v goes to kvmctl, not to node: after the script when the argv starts with node itself.
  const at = kvmctlArgv[0] === process.execPath ? 2 : 1;
  const argv = [...kvmctlArgv.slice(0, at), '-v', ...kvmctlArgv.slice(at)];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new CommandFailed({ label: kvmctlArgv.join(' ') }, r);
  // A session prints `+ virsh -c URI (reading its input in rounds)`, then each line written to it as `< LINE`:
  // it replays as that one process fed those lines ({ argv, input }).
  const commands = [];
  for (const l of r.stderr.split('\n')) {
    if (l.startsWith('+ ') && l.endsWith(SESSION_SUFFIX)) commands.push({ argv: splitQuoted(l.slice(2, -SESSION_SUFFIX.length)), input: '' });
    else if (l.startsWith('+ ')) commands.push(splitQuoted(l.slice(2)));
    else if (l.startsWith('< ') && commands.at(-1)?.input !== undefined) commands.at(-1).input += `${l.slice(2)}\n`;
  }
  // A floor of no commands would be a bare node start, not a floor.
  if (commands.length === 0) throw new Error(`${kvmctlArgv.join(' ')} -v printed no command it ran`);
  return commands;
}

/** What kvmctl -v adds to the command line of a process it feeds in rounds (src/exec/dry-run.ts). */
const SESSION_SUFFIX = ' (reading its input in rounds)';

/** The first command of a traced session alone (its first line and the fence after it); a plain argv as it is. */
export function firstCommandOf(traced) {
  if (Array.isArray(traced)) return traced;
  return { argv: traced.argv, input: traced.input.split('\n').slice(0, 2).join('\n') + '\n' };
}

function splitQuoted(line) {
  const words = [];
  let word;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Peak resident set size in bytes (GNU time's "Maximum resident set size", the largest process of the tree). */
export function peakRss(command, env) {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-bench-time-'));
  try {
    const out = join(dir, 'time.txt');
    const r = spawnCommand(command, env, ['/usr/bin/time', '-v', '-o', out]);
    if (r.status !== 0) throw new CommandFailed(command, r);
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(out, 'utf8'))?.[1];
    if (!kb) throw new Error(`no "Maximum resident set size" in /usr/bin/time -v output for ${command.label}`);
    return Number(kb) * 1024;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether `kvmctl NOUN VERB` exists in this build: its noun's --help lists the
 * verb. Commands still being written are reported as not available, not as failures.
 */
export function verbAvailable(kvmctlArgv, noun, verb, env) {
  const r = spawnSync(kvmctlArgv[0], [...kvmctlArgv.slice(1), noun, '--help'], { encoding: 'utf8', env });
  if (r.status !== 0) return false;
  const commands = r.stdout.split(/^Commands:$/m)[1] ?? '';
  return new RegExp(`^  ${verb}\\b`, 'm').test(commands);
}
