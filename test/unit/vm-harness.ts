/**
 * Test harness for `kvmctl vm`: a Context over a FakeRunner and an in-memory
 * filesystem, recorded virsh output (test/fixtures/recorded/vm), and stubs for
 * one-process virsh batches built exactly as the code builds them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildContext } from '../../src/app.js';
import type { Context } from '../../src/context.js';
import type { Command } from '../../src/exec/command.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { virshBatch } from '../../src/libvirt/virsh.js';
import { main } from '../../src/main.js';

export const URI = 'qemu:///system';
/** The pool directory of the recordings. */
export const POOL_DIR = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool';

export function recorded(file: string): string {
  return readFileSync(join('test/fixtures/recorded/vm', file), 'utf8');
}

export function recordedTop(file: string): string {
  return readFileSync(join('test/fixtures/recorded', file), 'utf8');
}

export interface VmTestOptions {
  output?: 'table' | 'json';
  dryRun?: boolean;
  uri?: string;
  files?: Record<string, string>;
  /** Paths in files that the user may open read-write (e.g. /dev/kvm). */
  writable?: string[];
  env?: Record<string, string>;
  tty?: boolean;
  signal?: AbortSignal;
}

export function vmContext(runner: FakeRunner, o: VmTestOptions = {}): { ctx: Context; io: ReturnType<typeof memoryIO> } {
  const io = memoryIO({ KVMCTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kvmctl-vm-unit-')), PATH: '/usr/bin', ...o.env });
  io.stdinIsTTY = o.tty ?? false;
  io.stdoutIsTTY = o.tty ?? false;
  const deps = { io, runner, fs: memoryFs(o.files ?? {}, o.writable ?? []), version: 'test', signal: o.signal ?? new AbortController().signal, argv: [] };
  const ctx = buildContext({ output: o.output ?? 'table', dryRun: o.dryRun, connect: o.uri ?? URI }, deps);
  return { ctx, io };
}

/** The word virsh echoes between batched commands, as virshBatch writes it. */
const SEPARATOR = /; echo (\S+) ;/.exec(virshBatch(URI, [['a'], ['b']]).args[2] ?? '')?.[1] ?? '';

/** The stdout of a batch whose commands printed these outputs. */
export function batchStdout(outputs: string[]): string {
  return outputs.join(`${SEPARATOR}\n`);
}

export function batchArgv(words: string[][], uri = URI): string[] {
  const c = virshBatch(uri, words);
  return [c.program, ...c.args];
}

/** Stubs one batch: exact argv, the outputs joined as virsh prints them. */
export function stubBatch(runner: FakeRunner, words: string[][], outputs: string[], stderr = '', times = 1): FakeRunner {
  return runner.stub(batchArgv(words), { stdout: batchStdout(outputs), stderr }, times);
}

export function virshArgv(...args: string[]): string[] {
  return ['virsh', '-c', URI, ...args];
}

/** Commands that change state, as "virsh verb …" lines without the URI (for readable assertions). */
export function mutations(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.mutates).map(short);
}

export function short(c: Command): string {
  const args = c.args[0] === '-c' ? c.args.slice(2) : c.args;
  return [c.program, ...args].join(' ');
}

/** The one command a predicate names, e.g. the define with its XML input. */
export function callOf(runner: FakeRunner, pred: (c: Command) => boolean): Command {
  const found = runner.calls.filter(pred);
  if (found.length !== 1) throw new Error(`expected one matching call, got ${found.length}: ${runner.calls.map(short).join('; ')}`);
  return found[0] as Command;
}

/** What `vm create`'s loadPools batch reads for a pool, answered with the recordings. */
export function poolWords(pool: string): string[][] {
  return [
    ['pool-info', '--pool', pool],
    ['pool-dumpxml', '--pool', pool],
    ['vol-list', '--pool', pool],
  ];
}

export function recordedPoolOutputs(): string[] {
  return [recorded('virsh-pool-info.txt'), recorded('virsh-pool-dumpxml.xml'), recorded('virsh-vol-list.txt')];
}

/** Runs kvmctl as a user would (main with fakes): exit code, stdout, stderr. */
export async function runKvmctl(argv: string[], runner: FakeRunner, o: VmTestOptions = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ KVMCTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kvmctl-vm-unit-')), PATH: '/usr/bin', ...o.env });
  io.stdinIsTTY = o.tty ?? false;
  io.stdoutIsTTY = o.tty ?? false;
  const full = ['-c', o.uri ?? URI, ...(o.output === 'json' ? ['-o', 'json'] : []), ...(o.dryRun ? ['--dry-run'] : []), ...argv];
  const deps = { io, runner, fs: memoryFs(o.files ?? {}, o.writable ?? []), version: 'test', signal: o.signal ?? new AbortController().signal, argv: full };
  const code = await main(['node', 'kvmctl', ...full], deps);
  return { code, out: io.out, err: io.err };
}
