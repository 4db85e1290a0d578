import { setMaxListeners } from 'node:events';
import { main, manPage } from './main.js';
import { RealRunner } from './exec/real-runner.js';
import { memoryIO, processIO } from './output/io.js';
import { realFs } from './local-fs.js';
import type { EarlyStart } from './exec/early-start.js';

declare const KVMCTL_VERSION: string;

/**
 * The signals that interrupt a run. SIGHUP is what a dropped ssh session sends
 * and SIGQUIT is Ctrl-\: both roll back like Ctrl-C, never exit mid-step.
 */
export const INTERRUPTING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

const SIGNAL_NUMBERS: Record<(typeof INTERRUPTING_SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * Entry point used by bin/kvmctl: the real process parts. The first
 * interrupting signal aborts the context's signal so a multi-step operation can
 * roll back; a second SIGINT, SIGTERM or SIGQUIT exits at once. A second SIGHUP
 * does not: a hung-up terminal can deliver it again while the rollback runs,
 * and the rollback is what keeps the host reachable.
 */
export async function run(argv: string[], early?: EarlyStart): Promise<number> {
  const controller = new AbortController();
  // Every running program listens to this one signal, and -H runs many at once (each removes its listener when it ends).
  setMaxListeners(0, controller.signal);
  const onSignal = (sig: (typeof INTERRUPTING_SIGNALS)[number]) => {
    if (controller.signal.aborted) {
      if (sig !== 'SIGHUP') process.exit(128 + SIGNAL_NUMBERS[sig]);
      return;
    }
    controller.abort();
  };
  for (const sig of INTERRUPTING_SIGNALS) process.on(sig, onSignal);
  try {
    return await main(argv, { io: processIO(), runner: new RealRunner(controller.signal, undefined, early), fs: realFs, version: KVMCTL_VERSION, signal: controller.signal, argv: process.argv.slice(2) });
  } finally {
    await early?.release();
  }
}

/** kvmctl(1) in roff, from the command tree this bundle runs (scripts/build.mjs writes it to dist/kvmctl.1). */
export function manual(): string {
  const signal = new AbortController().signal;
  return manPage({ io: memoryIO(), runner: new RealRunner(signal), fs: realFs, version: KVMCTL_VERSION, signal, argv: [] });
}
