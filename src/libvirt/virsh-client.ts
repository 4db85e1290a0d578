/**
 * The virsh client: one per connection (runner + URI). Commands never build
 * virsh argv; they take a VirshCall from a builder (domainCalls, poolCalls,
 * networkCalls, volumeCalls) and hand it to the client, which adds `-c URI`,
 * runs it and classifies its failure against the call's subject. Batches are
 * keyed by name, so no caller depends on the position of another's output.
 */
import { formatCommand, mutatingCommand, readCommand, type Command, type CommandResult } from '../exec/command.js';
import type { KvmctlError } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { classifyVirshError, runVirshBatch, type BatchOptions, type Subject } from './virsh.js';

/** One virsh command as data: its words (without `-c URI`), whether it changes state, its subject. */
export interface VirshCall {
  words: string[];
  mutates: boolean;
  /** What the call is about, so its errors name the object ("storage pool images not found"). */
  subject?: Subject;
  /** Bytes on stdin (XML for `define --file /dev/stdin`). */
  input?: string;
  /** Kill virsh after this long (a call that waits on a guest, such as qemu-agent-command). */
  timeoutMs?: number;
}

export function read(words: string[], subject?: Subject): VirshCall {
  return { words, mutates: false, ...(subject && { subject }) };
}

export function write(words: string[], subject?: Subject, input?: string): VirshCall {
  return { words, mutates: true, ...(subject && { subject }), ...(input !== undefined && { input }) };
}

/** The Command for a call on a URI: `virsh -c URI WORDS…`. */
export function asCommand(uri: string, call: VirshCall): Command {
  const args = ['-c', uri, ...call.words];
  const extra = { ...(call.input !== undefined && { input: call.input }), ...(call.timeoutMs !== undefined && { timeoutMs: call.timeoutMs }) };
  return call.mutates ? mutatingCommand('virsh', args, extra) : readCommand('virsh', args, extra);
}

/** Calls asked together about one object (`{ info, xml }` of a pool); an absent call answers nothing. */
export type CallGroup = { readonly [key: string]: VirshCall | undefined };
/**
 * A batch entry: one call (its stdout), a list of calls (their stdouts, in the
 * list's order), or a list of groups (one answer group per group, keyed alike).
 */
export type BatchEntry = VirshCall | readonly VirshCall[] | readonly CallGroup[];
export type BatchSpec = Record<string, BatchEntry>;
type GroupOutputs<G> = { [K in keyof G]: G[K] extends VirshCall ? string : string | undefined };
export type BatchOutputs<S extends BatchSpec> = {
  [K in keyof S]: S[K] extends readonly VirshCall[] ? string[] : S[K] extends ReadonlyArray<infer G> ? GroupOutputs<G>[] : string;
};

export class Virsh {
  constructor(
    readonly runner: Runner,
    readonly uri: string,
  ) {}

  /** The Command the runner receives for a call (also what --dry-run and undo hints print). */
  command(call: VirshCall): Command {
    return asCommand(this.uri, call);
  }

  /** The call as a person would type it (undo commands, leftovers). */
  manual(call: VirshCall): string {
    return formatCommand(this.command(call));
  }

  /** Runs the call; its stdout, or an error classified from virsh's message and naming the subject. */
  async run(call: VirshCall): Promise<string> {
    const cmd = this.command(call);
    const result = await this.runner.run(cmd);
    if (result.exitCode !== 0) throw classifyVirshError(cmd, result, call.subject, this.uri);
    return result.stdout;
  }

  /** Runs the call and returns its result whatever the exit status; `error` classifies a failure when the caller wants it. */
  async attempt(call: VirshCall): Promise<CommandResult & { error: () => Error }> {
    const cmd = this.command(call);
    const result = await this.runner.run(cmd);
    return { ...result, error: () => classifyVirshError(cmd, result, call.subject, this.uri) };
  }

  /** The classified error of a batched call that printed nothing, from the batch's stderr. */
  failed(call: VirshCall, stderr: string): Error {
    return classifyVirshError(this.command(call), { stdout: '', stderr, exitCode: 1 }, call.subject, this.uri);
  }

  /**
   * The error of a call that failed where the client did not run it alone: in
   * a batch (its output empty, the batch's stderr) or as a stream.
   */
  errorOf(call: VirshCall, stderr: string, exitCode = 1): KvmctlError {
    return classifyVirshError(this.command(call), { stdout: '', stderr, exitCode }, call.subject, this.uri);
  }

  /**
   * Several read calls in as few virsh processes as argument limits allow,
   * answered by key: `batch({ caps, existing })` gives `{ caps, existing }`.
   * A failed command answers '' (its message is in `stderr` of batchWithStderr,
   * whose `ran` counts the commands that ran before a signal stopped the batch).
   */
  async batch<S extends BatchSpec>(spec: S, options: BatchOptions = {}): Promise<BatchOutputs<S>> {
    return (await this.batchWithStderr(spec, options)).out;
  }

  async batchWithStderr<S extends BatchSpec>(spec: S, options: BatchOptions = {}): Promise<{ out: BatchOutputs<S>; stderr: string; ran: number }> {
    const keys = Object.keys(spec);
    const calls = keys.flatMap((k) => callsOf(spec[k]!));
    const mutates = calls.some((c) => c.mutates);
    if (mutates && calls.some((c) => !c.mutates)) throw new Error('a virsh batch mixes reads and writes: run them apart (dry-run must run the reads)');
    const { outputs, stderr } = await runVirshBatch(this.runner, this.uri, calls.map((c) => c.words), { ...options, mutates });
    // The answers are taken in the order callsOf laid the calls out.
    let at = 0;
    const next = () => outputs[at++] ?? '';
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const entry = spec[k]!;
      if (!isList(entry)) out[k] = next();
      else out[k] = entry.map((item) => (isCall(item) ? next() : answerGroup(item, next)));
    }
    return { out: out as BatchOutputs<S>, stderr, ran: outputs.length };
  }
}

function isCall(item: VirshCall | CallGroup): item is VirshCall {
  return Array.isArray(item.words);
}

function groupCalls(group: CallGroup): VirshCall[] {
  return Object.values(group).filter((c): c is VirshCall => c !== undefined);
}

function answerGroup(group: CallGroup, next: () => string): Record<string, string> {
  const answer: Record<string, string> = {};
  for (const [key, call] of Object.entries(group)) if (call !== undefined) answer[key] = next();
  return answer;
}

function isList(entry: BatchEntry): entry is readonly VirshCall[] | readonly CallGroup[] {
  return Array.isArray(entry);
}

function callsOf(entry: BatchEntry): readonly VirshCall[] {
  if (!isList(entry)) return [entry];
  return (entry as ReadonlyArray<VirshCall | CallGroup>).flatMap((item) => (isCall(item) ? [item] : groupCalls(item)));
}
