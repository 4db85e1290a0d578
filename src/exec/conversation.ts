/**
 * A read that takes its input in rounds: one process (an interactive `virsh`)
 * is written to, read from until its reply is complete, then written to again
 * with input that depends on that reply. One process instead of one per round;
 * a Runner that can hold a conversation provides converse() (RealRunner, the
 * fake, and every wrapper that passes them through).
 */
import { StringDecoder } from 'node:string_decoder';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCommand, type Command, type CommandResult } from './command.js';
import { KILL_GRACE_MS, MAX_OUTPUT_BYTES, spawnOptions } from './spawn-options.js';
import { InterruptedError, KvmctlError } from '../errors.js';
import { CommandTimeoutError, MissingToolError, type Runner } from './runner.js';

/** What the program printed in one round. */
export interface Reply {
  stdout: string;
  stderr: string;
}

/** The text that ends a round's reply on each stream (the reply includes it; what follows waits for the next round). */
export interface Until {
  stdout: string;
  stderr: string;
}

export interface Conversation {
  /** The token of the first round's input, when that input was written before the conversation began (exec/early-start.ts). */
  readonly token?: string;
  /** Writes input to the program's stdin; resolves once stdout and stderr have each printed their terminator. */
  send(input: string, until: Until): Promise<Reply>;
  /** Closes its stdin and waits for it to exit: its exit status and what it printed after the last reply. */
  end(): Promise<CommandResult>;
}

/** The program exited (or could not be read) before its reply was complete; `result` holds what it printed. */
export class ConversationEndedError extends KvmctlError {
  constructor(
    readonly command: Command,
    readonly result: CommandResult,
  ) {
    super(`${formatCommand(command)} exited (status ${result.exitCode}) before it answered: ${result.stderr.trim().split('\n').pop() ?? ''}`, 'run with -v to see what was sent to it');
  }
}

/**
 * The first round's input a conversation will send, made from its token: a
 * process started early may hold it already, written with a token of its own.
 */
export type Opening = (token: string) => string;

/** Input written to a process before its conversation began: the token it was made with, and the bytes. */
export interface Written {
  token: string;
  input: string;
}

/** The conversation of a runner that can hold one; undefined when it cannot (the caller then runs its rounds apart). */
export function conversationOf(runner: Runner, cmd: Command, opening?: Opening): Conversation | undefined {
  return runner.converse?.(cmd, opening);
}

/** A conversation's process as spawned, before anything reads it (its pipes hold what it prints until then), and its private directories. */
export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  dirs: Record<string, string>;
}

/** Spawns cmd as a conversation runs it: piped stdin, stdout and stderr, spawnOptions, its private directories made. */
export function spawnConversation(cmd: Command): Spawned {
  const dirs: Record<string, string> = {};
  try {
    for (const name of cmd.privateDirs ?? []) dirs[name] = mkdtempSync(join(tmpdir(), 'kvmctl-private-'));
    const child = spawn(cmd.program, cmd.args, { ...spawnOptions(cmd, dirs), stdio: ['pipe', 'pipe', 'pipe'] });
    return { child, dirs };
  } catch (e) {
    // A directory made before the failure is removed: nothing is left of a process that never started.
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}


type Stop = 'timeout' | 'cancel' | 'overflow';

/**
 * Holds a conversation with cmd (spawned now, or `started` earlier by spawnConversation and not read since); cancel (reads only)
 * and cmd.timeoutMs stop it as they stop a run. onStart registers it so that kvmctl's exit stops it too. `written`: what the
 * process was given before: the first round must send exactly that, and is then answered without writing it again.
 */
export function startConversation(
  cmd: Command,
  cancel: AbortSignal | undefined,
  onStart: (child: ReturnType<typeof spawn>) => () => void,
  started: Spawned = spawnConversation(cmd),
  written?: Written,
): Conversation {
  const { child, dirs } = started;
  const untrack = onStart(child);
  // A program that exits early closes its stdin: what is still written then fails with EPIPE, reported by 'close' instead.
  child.stdin.on('error', () => undefined);
  const text = { stdout: new Unread(), stderr: new Unread() };
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let bytes = 0;
  let stopped: Stop | undefined;
  let failure: Error | undefined;
  let exit: CommandResult | undefined;
  let pending: { until: Until; resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  const closed: Array<() => void> = [];
  let killTimer: NodeJS.Timeout | undefined;

  const stop = (why: Stop) => {
    if (stopped || exit) return;
    stopped = why;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const timer = cmd.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), cmd.timeoutMs);
  const onAbort = () => stop('cancel');
  cancel?.addEventListener('abort', onAbort, { once: true });

  /** Resolves the pending round once both streams hold their terminator. */
  const check = () => {
    if (!pending || !text.stdout.found || !text.stderr.found) return;
    const reply = { stdout: text.stdout.take(), stderr: text.stderr.take() };
    const p = pending;
    pending = undefined;
    p.resolve(reply);
  };
  for (const s of ['stdout', 'stderr'] as const) {
    child[s].on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_OUTPUT_BYTES) return stop('overflow');
      text[s].push(decoders[s].write(chunk));
      check();
    });
  }

  /** Why the program is gone, as the error a pending or later round gets. */
  const endError = (): Error => {
    if (failure) return failure;
    if (stopped === 'timeout') return new CommandTimeoutError(cmd);
    if (stopped === 'cancel') return new InterruptedError(`interrupted while running ${cmd.program}`);
    if (stopped === 'overflow') return new Error(`${cmd.program} wrote more than ${MAX_OUTPUT_BYTES} bytes of output`);
    return new ConversationEndedError(cmd, exit ?? { stdout: text.stdout.all(), stderr: text.stderr.all(), exitCode: -1 });
  };
  const finish = () => {
    clearTimeout(timer);
    clearTimeout(killTimer);
    cancel?.removeEventListener('abort', onAbort);
    untrack();
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    if (pending) {
      const p = pending;
      pending = undefined;
      p.reject(endError());
    }
    for (const f of closed.splice(0)) f();
  };
  child.on('error', (error: NodeJS.ErrnoException) => {
    failure = error.code === 'ENOENT' ? new MissingToolError(cmd.program) : new Error(`could not run ${cmd.program}: ${error.message}`);
    exit ??= { stdout: '', stderr: '', exitCode: -1 };
    finish();
  });
  // 'close' comes after both pipes are drained, unlike 'exit'.
  child.on('close', (code, signal) => {
    text.stdout.push(decoders.stdout.end());
    text.stderr.push(decoders.stderr.end());
    exit = { stdout: text.stdout.all(), stderr: text.stderr.all(), exitCode: code ?? 128 };
    if (code === null && !stopped) failure = new Error(`could not run ${cmd.program}: it was killed by ${signal ?? 'a signal'}`);
    finish();
  });
  if (cancel?.aborted) stop('cancel');

  let unsent = written;
  return {
    ...(written && { token: written.token }),
    send(input, until) {
      if (pending) return Promise.reject(new Error(`${cmd.program}: a round was sent before the last one was answered`));
      const early = unsent;
      unsent = undefined;
      if (early && early.input !== input) return Promise.reject(new Error(`${cmd.program}: the first round differs from the one written to it before`));
      if (exit || stopped) return Promise.reject(endError());
      return new Promise<Reply>((resolve, reject) => {
        pending = { until, resolve, reject };
        text.stdout.expect(until.stdout);
        text.stderr.expect(until.stderr);
        if (!early) child.stdin.write(input);
        check();
      });
    },
    end() {
      if (!exit) child.stdin.end();
      return new Promise<CommandResult>((resolve, reject) => {
        const done = () => (stopped || failure ? reject(endError()) : resolve(exit as CommandResult));
        if (exit) done();
        else closed.push(done);
      });
    },
  };
}

/**
 * One stream's unread text, kept as chunks and searched for the round's
 * terminator only where new text came in: virsh's shell writes every line
 * apart, and searching the whole text at each of 10,000 chunks costs O(n²).
 */
class Unread {
  private parts: string[] = [];
  private length = 0;
  /** The last characters before the new text, for a terminator that straddles two chunks. */
  private tail = '';
  private until = '';
  /** Where the terminator ends, once it has come. */
  private end = -1;

  push(text: string): void {
    if (text === '') return;
    if (this.until !== '' && this.end < 0) {
      const window = this.tail + text;
      const at = window.indexOf(this.until);
      if (at >= 0) this.end = this.length - this.tail.length + at + this.until.length;
      else this.tail = window.slice(window.length - (this.until.length - 1));
    }
    this.parts.push(text);
    this.length += text.length;
  }

  /** Waits for this terminator, searching what is already unread once. */
  expect(until: string): void {
    const all = this.all();
    const at = all.indexOf(until);
    this.until = until;
    this.end = at < 0 ? -1 : at + until.length;
    this.tail = all.slice(Math.max(0, all.length - (until.length - 1)));
  }

  get found(): boolean {
    return this.end >= 0;
  }

  /** The text up to and including the terminator; what follows stays unread. */
  take(): string {
    const all = this.all();
    const reply = all.slice(0, this.end);
    this.parts = [all.slice(this.end)];
    this.length = all.length - this.end;
    this.until = '';
    this.end = -1;
    this.tail = '';
    return reply;
  }

  all(): string {
    if (this.parts.length !== 1) this.parts = [this.parts.join('')];
    return this.parts[0]!;
  }
}
