/**
 * The one unit-test harness: a Context (or the whole CLI, main()) over a
 * FakeRunner and an in-memory filesystem, recorded tool output
 * (test/fixtures/recorded, each file with the command that produced it), and
 * stubs for one-process virsh batches built exactly as the code builds them.
 * Every FakeRunner is verified after each test (test/support/setup.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { buildContext } from '../../src/app.js';
import type { Context } from '../../src/context.js';
import { formatCommand, type Command } from '../../src/exec/command.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { virshBatch } from '../../src/libvirt/virsh.js';
import { asCommand, type VirshCall } from '../../src/libvirt/virsh-client.js';
import { roundInput, sessionCommand } from '../../src/libvirt/virsh-session.js';
import type { Reply } from '../../src/exec/conversation.js';
import { main } from '../../src/main.js';
import { exitCodeOf } from '../../src/errors.js';
import { parseOutput } from './schemas.js';

export { FakeRunner };
export const URI = 'qemu:///system';

/** A recorded output: test/fixtures/recorded/FILE (e.g. 'vm/virsh-pool-info.txt'). */
export function recorded(file: string): string {
  return readFileSync(join('test/fixtures/recorded', file), 'utf8');
}

// ---- state directories ----------------------------------------------------------

const stateDirs: string[] = [];

/** A fresh KVMCTL_STATE_DIR, removed when the test file ends. */
export function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-unit-'));
  stateDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of stateDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// ---- contexts and the CLI ------------------------------------------------------

export interface TestOptions {
  output?: 'table' | 'json';
  dryRun?: boolean;
  quiet?: boolean;
  uri?: string;
  /** Files kvmctl reads directly (/proc, /sys, input files). */
  files?: Record<string, string>;
  /** Paths in files that the user may open read-write (e.g. /dev/kvm). */
  writable?: string[];
  env?: Record<string, string>;
  stateDir?: string;
  /** stdin and stdout are terminals. */
  tty?: boolean;
  stderrIsTTY?: boolean;
  signal?: AbortSignal;
}

function testIO(o: TestOptions): ReturnType<typeof memoryIO> {
  const io = memoryIO({ KVMCTL_STATE_DIR: o.stateDir ?? newStateDir(), PATH: '/usr/bin', ...o.env });
  io.stdinIsTTY = o.tty ?? false;
  io.stdoutIsTTY = o.tty ?? false;
  io.stderrIsTTY = o.stderrIsTTY ?? false;
  return io;
}

function testDeps(runner: FakeRunner, io: ReturnType<typeof memoryIO>, o: TestOptions, argv: string[]) {
  return { io, runner, fs: memoryFs(o.files ?? {}, o.writable ?? []), version: 'test', signal: o.signal ?? new AbortController().signal, argv };
}

/** A Context as kvmctl builds it from global options, over the fake: call a verb's run function with it. */
export function testContext(runner: FakeRunner, o: TestOptions = {}): { ctx: Context; io: ReturnType<typeof memoryIO> } {
  const io = testIO(o);
  const ctx = buildContext({ output: o.output ?? 'table', dryRun: o.dryRun, quiet: o.quiet, connect: o.uri ?? URI }, testDeps(runner, io, o, []));
  return { ctx, io };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
  runner: FakeRunner;
  /** Every command run, as a person would type it (shell-quoted). */
  argvs: string[];
  /** Only the state-changing ones. */
  changes: string[];
  stateDir: string;
}

/** Runs kvmctl as a user would (main() with fakes): `-c URI [-o json] [--dry-run] ARGV`. */
export async function runKvmctl(argv: string[], runner: FakeRunner, o: TestOptions = {}): Promise<CliResult> {
  const stateDir = o.stateDir ?? newStateDir();
  const io = testIO({ ...o, stateDir });
  const full = ['-c', o.uri ?? URI, ...(o.output === 'json' ? ['-o', 'json'] : []), ...(o.dryRun ? ['--dry-run'] : []), ...argv];
  const code = await main(['node', 'kvmctl', ...full], testDeps(runner, io, o, full));
  const changes = runner.calls.filter((c) => c.mutates).map(formatCommand);
  return { code, out: io.out, err: io.err, runner, argvs: typed(runner), changes, stateDir };
}

// ---- virsh stubs --------------------------------------------------------------

/** The word virsh echoes between batched commands, as virshBatch writes it. */
const SEPARATOR = /; echo (\S+) ;/.exec(virshBatch(URI, [['a'], ['b']]).args[2] ?? '')?.[1] ?? '';

/** The stdout of a batch whose commands printed these outputs. */
export function batchStdout(outputs: string[]): string {
  return outputs.join(`${SEPARATOR}\n`);
}

/** The argv of a read batch of these commands (words or calls). */
export function batchArgv(commands: Array<string[] | VirshCall>, uri = URI): string[] {
  const c = virshBatch(uri, commands.map((w) => (Array.isArray(w) ? w : w.words)));
  return [c.program, ...c.args];
}

/** Stubs one batch: exact argv, the outputs joined as virsh prints them. */
export function stubBatch(runner: FakeRunner, commands: Array<string[] | VirshCall>, outputs: string[], stderr = '', times = 1): FakeRunner {
  return runner.stub(batchArgv(commands), { stdout: batchStdout(outputs), stderr }, times);
}

// ---- virsh sessions (one interactive virsh fed in rounds) ---------------------

/** The session's token and the number of the first command, from what was written to it. */
export function sessionRoundStart(input: string): { token: string; first: number } {
  const m = /^echo '(KVMCTL-[0-9a-f]+)'-'B(\d+)'/.exec(input);
  if (!m) throw new Error(`not a virsh session round: ${input.slice(0, 80)}`);
  return { token: m[1]!, first: Number(m[2]) };
}

/**
 * What virsh's shell prints for a round whose commands printed these outputs
 * (and stderrs): each between its markers, as recorded in
 * test/fixtures/recorded/session (less readline's prompts and echoed lines).
 */
export function sessionReply(token: string, first: number, outputs: string[], stderrs: string[] = []): Reply {
  const out = outputs.map((o, i) => `${token}-B${first + i}\n${o}${token}-E${first + i}\n${token}-F${first + i}\n`).join('');
  const err = outputs.map((_, i) => `${stderrs[i] ?? ''}error: ${token}-F${first + i}\n`).join('');
  return { stdout: out, stderr: err };
}

export interface SessionRound {
  commands: Array<string[] | VirshCall>;
  outputs: string[];
  stderrs?: string[];
}

/** Stubs the session on uri: round K (its token and first command read from what was written) is answered by answer(rounds[K], …). */
function stubRounds<R>(runner: FakeRunner, uri: string, rounds: R[], answer: (r: R, input: string, at: { token: string; first: number; round: number }) => Reply): FakeRunner {
  const c = sessionCommand(uri);
  return runner.stubConversation(
    [c.program, ...c.args],
    (input, round) => {
      const r = rounds[round];
      if (r === undefined) throw new Error(`virsh session: unexpected round ${round}: ${input}`);
      return answer(r, input, { ...sessionRoundStart(input), round });
    },
    rounds.length,
  );
}

/** Stubs one virsh session: each round must be exactly what the code writes for these commands; virsh answers with the outputs. */
export function stubSession(runner: FakeRunner, rounds: SessionRound[], uri = URI): FakeRunner {
  return stubRounds(runner, uri, rounds, (r, input, { token, first, round }) => {
    const expected = roundInput(r.commands.map((w) => (Array.isArray(w) ? w : w.words)), token, first);
    if (input !== expected) throw new Error(`virsh session round ${round}: written\n${input}\nexpected\n${expected}`);
    return sessionReply(token, first, r.outputs, r.stderrs);
  });
}

/**
 * Stubs one virsh session by what it answers: round K's commands (however many
 * the code writes, checked against the count) print outputs[K], in order. For
 * tests that answer recorded batches and do not restate every command.
 */
export function stubSessionOutputs(runner: FakeRunner, rounds: string[][], uri = URI): FakeRunner {
  return stubRounds(runner, uri, rounds, (outputs, input, { token, first, round }) => {
    const count = input.split('\n').filter((l) => l.startsWith(`echo '${token}'-'B`)).length;
    if (count !== outputs.length) throw new Error(`virsh session round ${round}: ${count} commands written, ${outputs.length} outputs stubbed: ${input}`);
    return sessionReply(token, first, outputs);
  });
}

/** A session virsh leaves at once (it cannot connect): its stderr and exit status. */
export function stubSessionExit(runner: FakeRunner, stderr: string, exitCode = 1, uri = URI): FakeRunner {
  const c = sessionCommand(uri);
  return runner.stubConversation([c.program, ...c.args], () => ({ stderr, exitCode }), 1);
}

/** A recorded session (test/fixtures/recorded/session): the code must write what it wrote then, its token aside; virsh answers as it did. */
export function stubRecordedSession(runner: FakeRunner, recorded: { rounds: Array<{ input: string; stdout: string; stderr: string }> }, recordedToken: string, uri = URI): FakeRunner {
  return stubRounds(runner, uri, recorded.rounds, (r, input, { token, round }) => {
    const live = (t: string) => t.split(recordedToken).join(token);
    if (input !== live(r.input)) throw new Error(`recorded virsh session round ${round}: written\n${input}\nrecorded\n${live(r.input)}`);
    return { stdout: live(r.stdout), stderr: live(r.stderr) };
  });
}

/** `virsh -c URI ARGS…` as the runner sees it. */
export function virshArgv(...args: string[]): string[] {
  return ['virsh', '-c', URI, ...args];
}

/** A call's argv as the runner sees it: stub exactly what the code builds. */
export function callArgv(call: VirshCall, uri = URI): string[] {
  const c = asCommand(uri, call);
  return [c.program, ...c.args];
}

/** Commands that change state, as "virsh verb …" lines without the URI (for readable assertions). */
export function mutations(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.mutates).map(short);
}

export function short(c: Command): string {
  const args = c.args[0] === '-c' ? c.args.slice(2) : c.args;
  return [c.program, ...args].join(' ');
}

/** Every command run, as a person would type it (shell-quoted). */
export function typed(runner: FakeRunner): string[] {
  return runner.calls.map(formatCommand);
}

/** The one command a predicate names, e.g. the define with its XML input. */
export function callOf(runner: FakeRunner, pred: (c: Command) => boolean): Command {
  const found = runner.calls.filter(pred);
  if (found.length !== 1) throw new Error(`expected one matching call, got ${found.length}: ${runner.calls.map(short).join('; ')}`);
  return found[0] as Command;
}

/** How a run function ended: exit 0, or the exit code and message of its error. */
export async function outcome(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
    return { code: 0, message: '' };
  } catch (e) {
    return { code: exitCodeOf(e), message: (e as Error).message };
  }
}

/**
 * Runs a verb that makes one virsh call twice, as a table and with -o json,
 * each over a fake that answers exactly that call (verified after the test):
 * the table text and the JSON as its schema reads it.
 */
export async function tableAndJson(verb: string[], args: string[], call: string[]): Promise<{ table: string; json: unknown }> {
  const table = await runKvmctl([...verb, ...args], new FakeRunner().stub(call, {}));
  const json = await runKvmctl([...verb, ...args, '-o', 'json'], new FakeRunner().stub(call, {}));
  return { table: table.out, json: parseOutput(verb, json.out) };
}

/** A table's lines with each run of spaces made one, to compare rows whatever the column widths. */
export function tableLines(out: string): string[] {
  return out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
}
