/**
 * The virsh client: one per connection (runner + URI). Commands never build
 * virsh argv; they take a VirshCall from a builder (domainCalls, poolCalls,
 * networkCalls, volumeCalls) and hand it to the client, which adds `-c URI`,
 * runs it and classifies its failure against the call's subject. Batches are
 * keyed by name, so no caller depends on the position of another's output.
 */
import { formatCommand, mutatingCommand, readCommand, type Command, type CommandResult } from '../exec/command.js';
import { KvmctlError } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { conversationOf, ConversationEndedError, type Conversation } from '../exec/conversation.js';
import { chunkBatch, classifyVirshError, isUnreachable, libvirtMessage, runVirshBatch, unreachableError, virshBatch, type BatchOptions, type Subject } from './virsh.js';
import { newSessionToken, roundInput, roundUntil, sessionAllowed, sessionCommand, splitRound, splitStream, streamCommand, streamInput, streamStderr, typeable } from './virsh-session.js';

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

/** A round of a session: each call's stdout (`out`) and stderr (`err`) by key, and all of its stderr. */
export interface RoundResult<S extends BatchSpec> {
  out: BatchOutputs<S>;
  err: BatchOutputs<S>;
  stderr: string;
}

/** One virsh process for several rounds of reads (see virsh-session.ts); a round may depend on the last one's output. */
export interface VirshSession {
  round<S extends BatchSpec>(spec: S): Promise<RoundResult<S>>;
}

/**
 * Where a loader's rounds of reads go, each round asked once the last one is
 * read: a session (one virsh process for all of them) or a batch process a
 * round (Virsh.batchRounds). What a loader reads is the same either way.
 */
export interface ReadRounds {
  round<S extends BatchSpec>(spec: S): Promise<{ out: BatchOutputs<S>; stderr: string }>;
}

/** Commands a round of a stream (Virsh.batch with oneProcess). */
const STREAM_ROUND = 1000;

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
    const calls = batchCalls(spec);
    const mutates = calls.some((c) => c.mutates);
    if (mutates && calls.some((c) => !c.mutates)) throw new Error('a virsh batch mixes reads and writes: run them apart (dry-run must run the reads)');
    const words = calls.map((c) => c.words);
    const streamed = options.oneProcess && !mutates ? await this.stream(words, options) : undefined;
    const { outputs, stderr } = streamed ?? (await runVirshBatch(this.runner, this.uri, words, { ...options, mutates }));
    return { out: answersOf(spec, outputs), stderr, ran: outputs.length };
  }

  /** Rounds of reads, each in a batch process of its own. */
  batchRounds(): ReadRounds {
    return { round: (spec) => this.batchWithStderr(spec) };
  }

  /**
   * A batch of reads longer than one argument, in one interactive virsh fed
   * the commands a line each (virsh-session.ts, streamInput); undefined when it
   * fits one argument, or cannot or did not run so (a per-user URI, words
   * readline would edit, a runner without conversations, output it cannot
   * split): the caller runs it as batches.
   */
  private async stream(commands: string[][], options: BatchOptions): Promise<{ outputs: string[]; stderr: string } | undefined> {
    if (chunkBatch(commands, options).length <= 1 || !sessionAllowed(this.uri) || !commands.every(typeable)) return undefined;
    const cmd = streamCommand(this.uri);
    const conversation = conversationOf(this.runner, options.timeoutMs === undefined ? cmd : { ...cmd, timeoutMs: options.timeoutMs });
    if (!conversation) return undefined;
    const token = newSessionToken();
    const outputs: string[] = [];
    let stderr = '';
    try {
      // Rounds of a thousand commands: their replies are read (and joined) one at a time.
      for (let first = 0, round = 0; first < commands.length; first += STREAM_ROUND, round++) {
        const part = commands.slice(first, first + STREAM_ROUND);
        const reply = await conversation.send(streamInput(part, token, round), roundUntil(token, round)).catch((e: unknown) => {
          if (!(e instanceof ConversationEndedError)) throw e;
          // virsh leaves its shell at once when it cannot connect.
          if (isUnreachable(e.result.stderr)) throw unreachableError(this.uri, libvirtMessage(e.result.stderr));
          throw new KvmctlError(`virsh ended before it answered (exit ${e.result.exitCode}): ${libvirtMessage(e.result.stderr)}`, 'run with -v to see the commands sent to it');
        });
        const err = streamStderr(reply.stderr, token, round);
        if (isUnreachable(err)) throw unreachableError(this.uri, libvirtMessage(err));
        const answers = splitStream(reply.stdout, part.length);
        if (!answers) return undefined;
        outputs.push(...answers);
        stderr += err;
        options.onProgress?.(outputs.length, commands.length);
      }
      return { outputs, stderr };
    } finally {
      await conversation.end().catch(() => undefined);
    }
  }

  /**
   * Runs fn with a session: every round of reads it asks for goes to one
   * interactive virsh process, started at the first round and ended when fn
   * returns. A call failed when its `err` holds virsh's message. With a runner
   * that cannot hold a conversation, each round is a batch of its own.
   */
  async session<T>(fn: (session: VirshSession) => Promise<T>): Promise<T> {
    const state = new SessionState(this);
    // Once fn has its answers, how virsh ends (killed by a deadline just after) changes nothing.
    try {
      return await fn({ round: (spec) => state.round(spec) });
    } finally {
      await state.end().catch(() => undefined);
    }
  }
}

class SessionState {
  private conversation: Conversation | undefined | null = null;
  /** The markers' token: the session's own, or that of a process that was given the first round before the run (exec/early-start.ts). */
  private token = newSessionToken();
  private next = 0;

  constructor(private readonly virsh: Virsh) {}

  async round<S extends BatchSpec>(spec: S): Promise<RoundResult<S>> {
    const keys = Object.keys(spec);
    const calls = keys.flatMap((k) => callsOf(spec[k]!));
    if (calls.some((c) => c.mutates)) throw new Error('a virsh session runs reads only: run writes with virsh.run');
    const replies = calls.map(() => ({ stdout: '', stderr: '' }));
    if (this.conversation === null && calls.length > 0) {
      // The first round as this session would write it with a token: a process started early holds it already when they match.
      const opening = (token: string) => roundInput(calls.filter((c) => typeable(c.words)).map((c) => c.words), token, 0);
      this.conversation = sessionAllowed(this.virsh.uri) ? conversationOf(this.virsh.runner, sessionCommand(this.virsh.uri), opening) : undefined;
      if (this.conversation?.token !== undefined) this.token = this.conversation.token;
    }
    const typed = calls.flatMap((c, i) => (this.conversation && typeable(c.words) ? [i] : []));
    if (typed.length > 0) {
      const parts = await this.send(typed.map((i) => calls[i]!.words));
      typed.forEach((at, j) => (replies[at] = parts[j]!));
    }
    // Calls readline would edit (and every call, without a conversation): one batch process.
    const inSession = new Set(typed);
    const apart = calls.flatMap((c, i) => (inSession.has(i) ? [] : [i]));
    let apartStderr = '';
    if (apart.length > 0) {
      const { outputs, stderr } = await runVirshBatch(this.virsh.runner, this.virsh.uri, apart.map((i) => calls[i]!.words));
      apartStderr = stderr;
      // A batch's stderr is not per command: a call that printed nothing carries it.
      apart.forEach((at, j) => (replies[at] = { stdout: outputs[j] ?? '', stderr: outputs[j] ? '' : stderr }));
    }
    const out = answersOf(spec, replies.map((r) => r.stdout));
    const err = answersOf(spec, replies.map((r) => r.stderr));
    const stderr = typed.map((i) => replies[i]!.stderr).join('') + apartStderr;
    return { out, err, stderr };
  }

  private async send(commands: string[][]) {
    const conversation = this.conversation!;
    const first = this.next;
    this.next += commands.length;
    let reply;
    try {
      reply = await conversation.send(roundInput(commands, this.token, first), roundUntil(this.token, this.next - 1));
    } catch (e) {
      if (!(e instanceof ConversationEndedError)) throw e;
      // virsh leaves its shell at once when it cannot connect.
      if (isUnreachable(e.result.stderr)) throw unreachableError(this.virsh.uri, libvirtMessage(e.result.stderr));
      throw new KvmctlError(`virsh ended before it answered (exit ${e.result.exitCode}): ${libvirtMessage(e.result.stderr)}`, 'run with -v to see the commands sent to it');
    }
    const parts = splitRound(reply, this.token, first, commands.length);
    const lost = parts.find((p) => isUnreachable(p.stderr));
    if (lost) throw unreachableError(this.virsh.uri, libvirtMessage(lost.stderr));
    return parts;
  }

  async end(): Promise<void> {
    const c = this.conversation;
    this.conversation = undefined;
    if (c) await c.end();
  }
}

/** The answers of a spec's calls, keyed as the spec: `texts` are in the order callsOf lays the calls out. */
function answersOf<S extends BatchSpec>(spec: S, texts: readonly string[]): BatchOutputs<S> {
  let at = 0;
  const next = () => texts[at++] ?? '';
  const by: Record<string, unknown> = {};
  for (const [k, entry] of Object.entries(spec)) {
    by[k] = isList(entry) ? entry.map((item) => (isCall(item) ? next() : answerGroup(item, next))) : next();
  }
  return by as BatchOutputs<S>;
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

/** A batch's calls in the order they run (and are answered). */
function batchCalls(spec: BatchSpec): VirshCall[] {
  return Object.keys(spec).flatMap((k) => callsOf(spec[k]!));
}

/**
 * The one virsh process a batch of reads runs as when no limit cuts it (what
 * batch() then runs, so that src/early.ts can start it before the bundle
 * loads); undefined when it would take more than one, or holds a write.
 */
export function batchCommand(uri: string, spec: BatchSpec): Command | undefined {
  const calls = batchCalls(spec);
  if (calls.some((c) => c.mutates)) return undefined;
  try {
    const chunks = chunkBatch(calls.map((c) => c.words));
    return chunks.length === 1 ? virshBatch(uri, chunks[0]!) : undefined;
  } catch {
    return undefined;
  }
}

function callsOf(entry: BatchEntry): readonly VirshCall[] {
  if (!isList(entry)) return [entry];
  return (entry as ReadonlyArray<VirshCall | CallGroup>).flatMap((item) => (isCall(item) ? [item] : groupCalls(item)));
}
