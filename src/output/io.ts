/** The process's streams and environment, injected so tests can run commands in memory. */
export interface IO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Bytes written as they are (a guest command's output, which need not be UTF-8). */
  writeBytes(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  stdoutIsTTY: boolean;
  /** The terminal's width when stdout is one (tables fit it). */
  stdoutColumns?: number;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  /** Single key presses from a terminal's stdin (raw mode) until the returned function is called; absent when stdin is no terminal. */
  onKeys?(fn: (key: string) => void): () => void;
  env: Record<string, string | undefined>;
}

export function processIO(): IO {
  // `kvmctl vm list | head` closes the pipe early: stop writing instead of crashing on EPIPE.
  let stdoutClosed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutClosed = true;
  });
  process.stderr.on('error', () => undefined);
  return {
    stdout: (t) => void (stdoutClosed || process.stdout.write(t)),
    stderr: (t) => void process.stderr.write(t),
    writeBytes: (stream, b) => void (stream === 'stdout' ? stdoutClosed || process.stdout.write(b) : process.stderr.write(b)),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    get stdoutColumns() {
      return process.stdout.isTTY ? process.stdout.columns : undefined;
    },
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    onKeys: process.stdin.isTTY
      ? (fn) => {
          const onData = (b: Buffer) => fn(b.toString('latin1'));
          process.stdin.setRawMode(true);
          process.stdin.on('data', onData).resume();
          return () => {
            process.stdin.off('data', onData).pause();
            process.stdin.setRawMode(false);
          };
        }
      : undefined,
    env: process.env,
  };
}

/** An in-memory IO for tests. */
export function memoryIO(env: Record<string, string | undefined> = {}): IO & { out: string; err: string; outBytes: Buffer } {
  const io = {
    out: '',
    err: '',
    outBytes: Buffer.alloc(0),
    stdout(t: string) { io.out += t; },
    stderr(t: string) { io.err += t; },
    writeBytes(stream: 'stdout' | 'stderr', b: Uint8Array) {
      if (stream === 'stdout') io.outBytes = Buffer.concat([io.outBytes, b]);
      io[stream === 'stdout' ? 'out' : 'err'] += Buffer.from(b).toString('utf8');
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    env,
  };
  return io;
}
