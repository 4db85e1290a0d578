/**
 * A run's output, read from the moment its process is spawned. Node discards
 * what a child printed to a pipe nobody listens to once the child exits, so a
 * process started before anyone wants its output (exec/early-start.ts) must be
 * read at once too: its chunks wait here, not in the pipes.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A run's process: no stdin from a pipe, stdout and stderr piped. */
export type RunChild = ChildProcessByStdio<null, Readable, Readable>;

/** How a run's process ended: it exited (its pipes drained), or it could not run. */
export type Ending = { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null } | { kind: 'error'; error: NodeJS.ErrnoException };

export interface Captured {
  readonly child: RunChild;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  /** Bytes read so far, on both streams. */
  bytes: number;
  /** Called after each chunk, once someone reads the run. */
  onChunk?: () => void;
  /** Settles at the first of 'error' and 'close' ('close' comes after both pipes are drained, unlike 'exit'). */
  readonly ended: Promise<Ending>;
}

export function capture(child: RunChild): Captured {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const ended = new Promise<Ending>((resolve) => {
    child.once('error', (error) => resolve({ kind: 'error', error }));
    child.once('close', (code, signal) => resolve({ kind: 'exit', code, signal }));
  });
  const captured: Captured = { child, stdout, stderr, bytes: 0, ended };
  const into = (chunks: Buffer[]) => (chunk: Buffer) => {
    captured.bytes += chunk.length;
    chunks.push(chunk);
    captured.onChunk?.();
  };
  child.stdout.on('data', into(stdout));
  child.stderr.on('data', into(stderr));
  return captured;
}
