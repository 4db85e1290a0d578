/** How an error reads in text mode (`kvmctl: error: …`, what is left, `hint: …`): main.ts and the runner of many names print it the same way. */
import { KvmctlError, PartialError, PassedExitStatus } from '../errors.js';

export function textErrorLines(err: unknown, verbose: boolean): string {
  if (err instanceof PassedExitStatus) return '';
  let text: string;
  if (err instanceof KvmctlError) {
    text = `kvmctl: error: ${err.message}\n`;
    if (err instanceof PartialError && err.leftovers.length > 0) text += 'left behind:\n' + err.leftovers.map((l) => `  - ${l}\n`).join('');
    if (err.hint) text += `hint: ${err.hint}\n`;
  } else {
    text = `kvmctl: internal error: ${err instanceof Error ? err.message : String(err)}\n`;
    if (!verbose) text += 'hint: run again with -v for details, and report it if it persists\n';
  }
  if (verbose && err instanceof Error && err.stack) text += err.stack + '\n';
  return text;
}
