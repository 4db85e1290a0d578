import { main } from './main.js';
import { RealRunner } from './exec/real-runner.js';
import { processIO } from './output/io.js';
import { realFs } from './local-fs.js';

declare const KVMCTL_VERSION: string;

/** Entry point used by bin/kvmctl: the real process parts. */
export function run(argv: string[]): Promise<number> {
  return main(argv, { io: processIO(), runner: new RealRunner(), fs: realFs, version: KVMCTL_VERSION });
}
