/**
 * What the reliability tests share: the built CLI with a private state
 * directory (locks, journal, NAT records) per test, run to completion or
 * started in the background and signalled; network namespaces made by the
 * tests; and the fault sweep: count an operation's state-changing steps with
 * --dry-run, make each one fail in turn (KVMCTL_FAULT=fail:K), and require
 * exit 7 with the host exactly as before.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { inNetns, KVMCTL, lab, virsh, type RunResult } from '../lab.js';
import { snapshotHost, type HostState } from '../host-state.js';

export { inNetns, kvmctl, lab, virsh, type RunResult } from '../lab.js';
export { snapshotHost, type HostState } from '../host-state.js';

const stateDirs: string[] = [];

/** A fresh kvmctl state directory (KVMCTL_STATE_DIR), removed by removeStateDirs(). */
export function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-rel-state-'));
  stateDirs.push(dir);
  return dir;
}

export function removeStateDirs(): void {
  for (const d of stateDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliOptions {
  stateDir: string;
  /** KVMCTL_FAULT */
  fault?: string;
  /** Network namespace to run in (default: the lab's). */
  netns?: string;
  env?: Record<string, string>;
}

function envOf(o: CliOptions): Record<string, string> {
  return { KVMCTL_STATE_DIR: o.stateDir, KVMCTL_FAULT: o.fault ?? '', ...o.env };
}

/**
 * Runs the built CLI to completion, asynchronously: a synchronous wait of
 * minutes would starve vitest's own worker messages.
 */
export async function cli(args: string[], o: CliOptions): Promise<RunResult> {
  return start(args, o).done;
}

/** Runs it and fails the test unless it exits 0. */
export async function cliOk(args: string[], o: CliOptions): Promise<RunResult> {
  const r = await cli(args, o);
  if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** A test's dir pool: its directory, then kvmctl pool create. */
export async function createPool(name: string, dir: string, o: CliOptions): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await cliOk(['pool', 'create', name, '--path', dir], o);
}

/** Removes a test's pool, whatever state an earlier run left it in: stop, undefine, its directory. */
export function removePool(name: string, dir: string): void {
  virsh('pool-destroy', '--pool', name);
  virsh('pool-undefine', '--pool', name);
  rmSync(dir, { recursive: true, force: true });
}

export interface Running {
  pid: number;
  /** Resolves when the process has ended. */
  done: Promise<RunResult>;
  stderr(): string;
  /** Waits until stderr matches (or the process ends, or the time is up: both throw). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts the CLI in the background: node itself (through `ip netns exec`, which
 * execs in place: the pid is node's), never a shell, so a signal reaches kvmctl.
 */
export function start(args: string[], o: CliOptions): Running {
  const netns = o.netns ?? lab.netns;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, KVMCTL, '-c', lab.uri, ...args], {
    env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', ...envOf(o) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let ended = false;
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code: code ?? (signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal]! : -1), stdout, stderr });
    }),
  );
  return {
    pid: child.pid ?? -1,
    done,
    stderr: () => stderr,
    async waitForStderr(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (ended) throw new Error(`kvmctl ended before printing ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`kvmctl did not print ${pattern} within ${timeoutMs} ms:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill(signal) {
      process.kill(child.pid ?? -1, signal);
    },
  };
}

/** The files of the state directory's journal (one per unfinished operation). */
export function journalFiles(stateDir: string): string[] {
  const dir = join(stateDir, 'journal');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

// ---- network namespaces the tests make -------------------------------------------

export function sh(cmd: string, ...args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs commands inside a namespace, failing loudly. */
export function inNs(ns: string, ...commands: string[][]): void {
  for (const c of commands) {
    const r = inNetns(ns, c[0]!, ...c.slice(1));
    if (r.code !== 0) throw new Error(`ip netns exec ${ns} ${c.join(' ')}: ${r.stderr}`);
  }
}

/**
 * A new, empty network namespace with lo up and IPv6 off (so the kernel's own
 * link-local addresses do not come and go with link state in the snapshots).
 */
export function makeNetns(ns: string): void {
  deleteNetns(ns);
  const r = sh('ip', 'netns', 'add', ns);
  if (r.code !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
  inNs(
    ns,
    ['ip', 'link', 'set', 'lo', 'up'],
    ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1'],
    ['sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1'],
  );
}

export function deleteNetns(ns: string): void {
  if (existsSync(`/run/netns/${ns}`)) sh('ip', 'netns', 'delete', ns);
}

// ---- the fault sweep ----------------------------------------------------------------

/** Parts of a command line that differ between runs (temporary names). */
export function normalizeCommand(text: string): string {
  return text.replace(/kvmctl-seed-[A-Za-z0-9]+/g, 'kvmctl-seed-X').replace(/\.kvmctl-[0-9a-f]+\.part/g, '.kvmctl-X.part').replace(/kvmctl-import-[0-9a-f]+/g, 'kvmctl-import-X');
}

/** The state-changing commands an operation would run, as --dry-run prints them. */
export async function plannedSteps(args: string[], o: CliOptions): Promise<string[]> {
  const r = await cli(['--dry-run', ...args], o);
  if (r.code !== 0) throw new Error(`kvmctl --dry-run ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('[dry-run] would run: '))
    .map((l) => normalizeCommand(l.slice('[dry-run] would run: '.length)));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SweepCase {
  args: string[];
  /** The label its transaction reports ("vm create web1"). */
  label: string;
  o: CliOptions;
  /** The snapshot that must come back after each failure. */
  snapshot: () => HostState;
  /** Puts the host back in the before-state after the run that succeeds (fail:N+1). */
  undoSuccess: () => void | Promise<unknown>;
  /** Checks the full result after the run that succeeds. */
  checkSuccess?: (r: RunResult) => void;
}

export interface SweepResult {
  steps: string[];
  /** Number of runs made (each fault, plus the dry run and the run that succeeds). */
  runs: number;
}

/**
 * For K = 1..N (N = the steps --dry-run lists): KVMCTL_FAULT=fail:K must end in
 * exit 7, a message naming the operation and the step that failed, and the
 * host exactly as before. fail:N+1 touches no step, so the operation must then
 * succeed: that proves N was the real count, not just what dry-run printed.
 */
export async function faultSweep(c: SweepCase): Promise<SweepResult> {
  const steps = await plannedSteps(c.args, c.o);
  expect(steps.length).toBeGreaterThan(0);
  const before = c.snapshot();
  for (const [i, step] of steps.entries()) {
    const k = i + 1;
    const r = await cli(c.args, { ...c.o, fault: `fail:${k}` });
    const where = `fail:${k} of ${steps.length} (${step})`;
    expect(r.code, `${where}: exit code; stderr:\n${r.stderr}`).toBe(7);
    expect(normalizeCommand(r.stderr), where).toMatch(
      new RegExp(`^kvmctl: error: ${escapeRegExp(c.label)} failed: .*injected fault \\(KVMCTL_FAULT\\) at step ${k}: ${escapeRegExp(step)}.*; (everything it had done was undone|it had changed nothing yet, so nothing is left)$`, 'm'),
    );
    expect(c.snapshot(), `${where}: the host after the rollback`).toEqual(before);
    expect(journalFiles(c.o.stateDir), `${where}: no journal entry is left`).toEqual([]);
  }
  const ok = await cli(c.args, { ...c.o, fault: `fail:${steps.length + 1}` });
  expect(ok.code, `fail:${steps.length + 1} touches no step, so the operation succeeds; stderr:\n${ok.stderr}`).toBe(0);
  c.checkSuccess?.(ok);
  await c.undoSuccess();
  expect(c.snapshot(), 'the host after undoing the successful run').toEqual(before);
  return { steps, runs: steps.length + 2 };
}

/** Collected counts for docs/reliability.md, printed at the end of each file. */
export const tally: Array<{ area: string; operation: string; tried: string; cases: number }> = [];

export function record(area: string, operation: string, tried: string, cases: number): void {
  tally.push({ area, operation, tried, cases });
}

export function printTally(): void {
  for (const t of tally) console.log(`TALLY\t${t.area}\t${t.operation}\t${t.tried}\t${t.cases}`);
}
