/** A download's progress line on a terminal: bytes, percent, speed and time left. */
import { progressShown, type ProgressTerminal } from '../storage/progress.js';
import { formatBytes } from '../units/size.js';

export function downloadProgressText(label: string, doneBytes: number, totalBytes: number | undefined, bytesPerSecond: number): string {
  const speed = `${formatBytes(Math.round(bytesPerSecond))}/s`;
  if (totalBytes === undefined || totalBytes === 0) return `${label} ${formatBytes(doneBytes)} ${speed}`;
  const percent = Math.min(100, Math.floor((doneBytes / totalBytes) * 100));
  const left = bytesPerSecond > 0 ? Math.ceil((totalBytes - doneBytes) / bytesPerSecond) : undefined;
  const eta = left === undefined ? '' : ` ETA ${left >= 60 ? `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s` : `${left}s`}`;
  return `${label} ${percent}% ${formatBytes(doneBytes)} of ${formatBytes(totalBytes)} ${speed}${eta}`;
}

export interface DownloadMeter {
  update(doneBytes: number, totalBytes: number | undefined): void;
  stop(): void;
}

/** A meter that draws on a terminal only (never with -o json, -q, -v, --dry-run or off a TTY). */
export async function downloadMeter(ctx: ProgressTerminal, label: string): Promise<DownloadMeter> {
  if (!progressShown(ctx) || !process.stderr.columns) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  const spinner = ora({ text: label, stream: process.stderr, isEnabled: true }).start();
  const started = Date.now();
  let first: number | undefined;
  let last = 0;
  return {
    update(done, total) {
      first ??= done; // bytes resumed from an earlier run do not count towards the speed
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const seconds = (now - started) / 1000;
      spinner.text = downloadProgressText(label, done, total, seconds > 0 ? (done - first) / seconds : 0);
    },
    stop: () => spinner.stop(),
  };
}
