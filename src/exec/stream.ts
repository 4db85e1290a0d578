/**
 * Programs that run until they are stopped (`virsh event --loop`): their output
 * is handed over chunk by chunk as it comes, instead of captured whole. A Runner
 * may provide stream (tests do); otherwise the program is started here, argv
 * only, with LC_ALL=C.UTF-8 like every other program kvmctl runs.
 */
import { spawn } from 'node:child_process';
import type { Command } from './command.js';
import { PROGRAM_LOCALE } from './spawn-options.js';
import { MissingToolError, type Runner } from './runner.js';

export type StreamName = 'stdout' | 'stderr';

export interface StreamEnd {
  /** Its exit status; null when it was ended by a signal. */
  exitCode: number | null;
  /** True when it was stopped because `signal` fired. */
  stopped: boolean;
}

export type StreamFn = (cmd: Command, onOutput: (stream: StreamName, text: string) => void, signal: AbortSignal) => Promise<StreamEnd>;

/** Runs cmd until it ends or signal fires (then it gets SIGTERM); resolves once it has exited and its pipes are drained. */
export function runStreaming(runner: Runner & { stream?: StreamFn }, cmd: Command, onOutput: (stream: StreamName, text: string) => void, signal: AbortSignal): Promise<StreamEnd> {
  if (runner.stream) return runner.stream(cmd, onOutput, signal);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve({ exitCode: null, stopped: true });
    const child = spawn(cmd.program, cmd.args, { env: { ...process.env, ...PROGRAM_LOCALE }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (t: string) => onOutput('stdout', t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => onOutput('stderr', t));
    let stopped = false;
    const onAbort = () => {
      stopped = true;
      child.kill('SIGTERM');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Ended by kvmctl's own exit (a second Ctrl-C): do not leave it running.
    const onExit = () => child.kill('SIGTERM');
    process.once('exit', onExit);
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      process.removeListener('exit', onExit);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(error.code === 'ENOENT' ? new MissingToolError(cmd.program) : new Error(`could not run ${cmd.program}: ${error.message}`));
    });
    child.on('close', (code) => {
      done();
      resolve({ exitCode: code, stopped });
    });
  });
}

/** Splits a stream into whole lines; the last, unfinished one waits for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): { push(text: string): void; flush(): void } {
  let rest = '';
  return {
    push(text) {
      rest += text;
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    },
    flush() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}
