import { main, manPage } from './main.js';
import { RealRunner } from './exec/real-runner.js';
import { memoryIO, processIO } from './output/io.js';
import { realFs } from './local-fs.js';

declare const KVMCTL_VERSION: string;

/**
 * Entry point used by bin/kvmctl: the real process parts. The first SIGINT or
 * SIGTERM aborts the context's signal so a multi-step operation can roll back;
 * a second one exits at once.
 */
export function run(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return main(argv, { io: processIO(), runner: new RealRunner(controller.signal), fs: realFs, version: KVMCTL_VERSION, signal: controller.signal, argv: process.argv.slice(2) });
}

/** kvmctl(1) in roff, from the command tree this bundle runs (scripts/build.mjs writes it to dist/kvmctl.1). */
export function manual(): string {
  const signal = new AbortController().signal;
  return manPage({ io: memoryIO(), runner: new RealRunner(signal), fs: realFs, version: KVMCTL_VERSION, signal, argv: [] });
}
