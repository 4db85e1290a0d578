import type { Context } from '../context.js';

/** Runs fn under an ora spinner, only on a TTY stderr and never with -o json, -q, -v or --dry-run; fn may change its text. */
export async function withSpinner<T>(ctx: Context, text: string, fn: (update: (text: string) => void) => Promise<T>): Promise<T> {
  // A terminal that reports no width (script(1) on an unsized pty) makes ora's redraw loop forever.
  const sized = (process.stderr.columns ?? 0) > 0;
  // -v and --dry-run print commands to stderr as they go, which a spinner's redraw would garble.
  const show = ctx.io.stderrIsTTY && sized && !ctx.out.json && !ctx.out.options.quiet && !ctx.verbose && !ctx.dryRun;
  if (!show) return fn(() => {});
  // Loaded only when a spinner is shown, to keep it out of every other start-up.
  const { default: ora } = await import('ora');
  // kvmctl has decided above; ora alone would also go quiet when $CI is set (and print a bare '- text' line).
  const spinner = ora({ text, stream: process.stderr, isEnabled: true }).start();
  try {
    // Drawn at once: ora draws only on its next frame, and steps faster than a frame (rm of 250 files) would never show.
    const result = await fn((t) => {
      spinner.text = t;
      spinner.render();
    });
    spinner.stop();
    return result;
  } catch (err) {
    spinner.stop();
    throw err;
  }
}
