import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, CommandResult } from './command.js';
import { InterruptedError } from '../errors.js';
import { CommandTimeoutError, MissingToolError, type Runner } from './runner.js';
import { startConversation, type Conversation, type Opening } from './conversation.js';
import { KILL_GRACE_MS, MAX_OUTPUT_BYTES, spawnRun } from './spawn-options.js';
import type { EarlyStart } from './early-start.js';
import { capture, type Captured, type Ending } from './capture.js';

/** A program still running this long after SIGTERM (timeout, cancel) gets SIGKILL. */

/**
 * Runs programs for real: argv only (no shell), LC_ALL=C.UTF-8 so their messages are
 * parseable, stdout and stderr captured whole. It uses child_process directly
 * rather than execa: every kvmctl command runs one or more programs, and for a
 * captured run execa's stream machinery costs about 15 ms of CPU per call, a
 * tenth of what `vm list` may take with 1000 VMs (docs/performance.md).
 * Output is read through pipes: a file on a full /tmp would hand back a listing
 * cut short, with exit status 0.
 */
export class RealRunner implements Runner {
  /**
   * With a signal, a read still running when it fires is cancelled; writes are left to finish so their undo is known.
   * tmpDir holds the input files (os.tmpdir() unless given). early: processes started before the run (exec/early-start.ts), each taken over by the conversation or run of its very command.
   */
  constructor(
    private readonly signal?: AbortSignal,
    private readonly tmpDir: string = tmpdir(),
    private readonly early?: EarlyStart,
  ) {}

  async run(cmd: Command): Promise<CommandResult> {
    const cancel = cmd.mutates ? undefined : this.signal;
    if (cancel?.aborted) throw interrupted(cmd);
    const claimed = this.early?.claimRun(cmd);
    if (claimed) return runCaptured(cmd, claimed, cancel);
    const stdin = cmd.input === undefined ? undefined : await inputFile(this.tmpDir, cmd.input);
    try {
      return await runCaptured(cmd, capture(spawnRun(cmd, stdin?.fd)), cancel);
    } finally {
      await stdin?.close();
    }
  }

  /** One process fed in rounds (exec/conversation.ts); stopped like a run by its timeout, the signal (reads) and kvmctl's exit. */
  converse(cmd: Command, opening?: Opening): Conversation {
    const onStart = (child: ChildProcess) => {
      track(child);
      return () => running.delete(child);
    };
    const claimed = this.early?.claim(cmd, opening);
    return startConversation(cmd, cmd.mutates ? undefined : this.signal, onStart, claimed, claimed?.written);
  }
}

/** Programs still running, stopped (SIGTERM) when kvmctl exits before them: a second Ctrl-C exits at once. */
const running = new Set<ChildProcess>();
let stopOnExit = false;

function track(child: ChildProcess): void {
  running.add(child);
  if (stopOnExit) return;
  stopOnExit = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGTERM');
  });
}

/** Reads a run's process (spawned for it, or started early and claimed) to its end; stops it on its timeout, cancel or too much output. */
async function runCaptured(cmd: Command, run: Captured, cancel: AbortSignal | undefined): Promise<CommandResult> {
  const { child } = run;
  track(child);
  let stopped: 'timeout' | 'cancel' | 'overflow' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: NonNullable<typeof stopped>) => {
    if (stopped) return;
    stopped = why;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const overflow = () => {
    if (run.bytes <= MAX_OUTPUT_BYTES) return;
    run.stdout.length = 0;
    run.stderr.length = 0;
    stop('overflow');
  };
  run.onChunk = overflow;
  overflow();
  const timer = cmd.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), cmd.timeoutMs);
  const onAbort = () => stop('cancel');
  cancel?.addEventListener('abort', onAbort, { once: true });
  let how: Ending;
  try {
    how = await run.ended;
  } finally {
    running.delete(child);
    clearTimeout(timer);
    clearTimeout(killTimer);
    cancel?.removeEventListener('abort', onAbort);
  }
  if (how.kind === 'error') {
    if (how.error.code === 'ENOENT') throw new MissingToolError(cmd.program);
    throw new Error(`could not run ${cmd.program}: ${how.error.message}`);
  }
  if (stopped === 'timeout') throw new CommandTimeoutError(cmd);
  if (stopped === 'cancel') throw interrupted(cmd);
  if (stopped === 'overflow') throw new Error(`${cmd.program} wrote more than ${MAX_OUTPUT_BYTES} bytes of output`);
  if (how.code === null) throw new Error(`could not run ${cmd.program}: it was killed by ${how.signal ?? 'a signal'}`);
  return { stdout: Buffer.concat(run.stdout).toString('utf8'), stderr: Buffer.concat(run.stderr).toString('utf8'), exitCode: how.code };
}

function interrupted(cmd: Command): InterruptedError {
  return new InterruptedError(`interrupted while running ${cmd.program}`);
}

/**
 * The input as a file opened for reading and already unlinked. `virsh define
 * --file /dev/stdin` reopens its stdin, which fails (ENXIO) on the socket Node
 * uses for a piped stdin; a regular file reopens fine, and read(0) works too.
 */
async function inputFile(dir: string, input: string): Promise<FileHandle> {
  const path = join(dir, `kvmctl-input-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(path, input, { mode: 0o600, flag: 'wx' });
  try {
    return await open(path, 'r');
  } finally {
    await unlink(path);
  }
}
