import type { Context } from '../context.js';

/**
 * Whether a spinner is drawn: only on a TTY stderr that reports its width, and
 * never with -o json, -q, -v or --dry-run.
 */
export function spinnerShown(ctx: Pick<Context, 'io' | 'out' | 'verbose' | 'dryRun'>, columns: number | undefined): boolean {
  // A terminal that reports no width (script(1) on an unsized pty) makes ora's redraw loop forever.
  const sized = (columns ?? 0) > 0;
  // -v and --dry-run print commands to stderr as they go, which a spinner's redraw would garble.
  return ctx.io.stderrIsTTY && sized && !ctx.out.json && !ctx.out.options.quiet && !ctx.verbose && !ctx.dryRun;
}

/** "7 s", "2 min 05 s": how long a spinner has been shown. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** The spinner's line: what it shows, and for how long. */
export function spinnerLine(text: string, elapsedMs: number): string {
  return `${text} (${formatElapsed(elapsedMs)})`;
}

/** "deleting the volumes of storage pool p: 250 of 1000": a count of a long loop, for update(). */
export function countLine(label: string, done: number, total: number): string {
  return `${label}: ${done} of ${total}`;
}

/**
 * Runs fn under an ora spinner (see spinnerShown) that shows its text and the
 * time elapsed; fn may change the text.
 */
export async function withSpinner<T>(ctx: Context, text: string, fn: (update: (text: string) => void) => Promise<T>): Promise<T> {
  if (!spinnerShown(ctx, process.stderr.columns)) return fn(() => {});
  // Loaded only when a spinner is shown, to keep it out of every other start-up.
  const { default: ora } = await import('ora');
  const began = Date.now();
  let current = text;
  // kvmctl has decided above; ora alone would also go quiet when $CI is set (and print a bare '- text' line).
  const spinner = ora({ text: spinnerLine(current, 0), stream: process.stderr, isEnabled: true }).start();
  // ora redraws its frames itself; the elapsed time moves once a second.
  const clock = setInterval(() => {
    spinner.text = spinnerLine(current, Date.now() - began);
  }, 1000);
  clock.unref();
  try {
    // Drawn at once: ora draws only on its next frame, and steps faster than a frame (rm of 250 files) would never show.
    return await fn((t) => {
      current = t;
      spinner.text = spinnerLine(current, Date.now() - began);
      spinner.render();
    });
  } finally {
    clearInterval(clock);
    spinner.stop();
  }
}
