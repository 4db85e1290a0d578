/**
 * A progress bar for long image writes (import, convert), on a terminal only:
 * never with -o json, -q, -v, --dry-run or when stderr is not a TTY. The
 * Runner hands back output only at the end, so progress is measured by
 * watching the file being written grow towards the data it will hold.
 */
import type { Context } from '../context.js';
import { formatBytes } from '../units/size.js';
import type { StorageFiles } from './local-files.js';

/** What decides whether a bar is drawn: the terminal and the output flags, nothing of the connection. */
export type ProgressTerminal = Pick<Context, 'io' | 'out' | 'verbose' | 'dryRun'>;

export function progressShown(ctx: ProgressTerminal): boolean {
  return ctx.io.stderrIsTTY && !ctx.out.json && !ctx.out.options.quiet && !ctx.verbose && !ctx.dryRun;
}

export interface ProgressWatch {
  /** The file being written. */
  path: string;
  /** About how many bytes it will hold when done (the source's allocated size). */
  expectedBytes: number;
  files: StorageFiles;
}

const WIDTH = 24;

export function progressText(label: string, doneBytes: number, expectedBytes: number): string {
  const ratio = expectedBytes > 0 ? Math.min(0.99, doneBytes / expectedBytes) : 0;
  const filled = Math.round(ratio * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(ratio * 100)}% (${formatBytes(doneBytes)} of about ${formatBytes(expectedBytes)})`;
}

/** Runs fn with a progress bar for the file it writes, on a terminal; plainly otherwise. */
export async function withProgress<T>(ctx: ProgressTerminal, label: string, watch: ProgressWatch, fn: () => Promise<T>): Promise<T> {
  // ora clears its last frame by counting wrapped lines: a terminal that reports no width (script(1) on a pty
  // nobody sized) makes that count infinite and the process hang.
  if (!progressShown(ctx) || !process.stderr.columns) return fn();
  // Loaded only when a bar is shown, to keep it out of every other start-up.
  const { default: ora } = await import('ora');
  const spinner = ora({ text: label, stream: process.stderr, isEnabled: true }).start();
  const timer = setInterval(() => {
    void watch.files.stat(watch.path).then((s) => {
      if (s) spinner.text = progressText(label, s.allocatedBytes, watch.expectedBytes);
    });
  }, 250);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    spinner.stop();
  }
}
