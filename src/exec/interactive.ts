/**
 * Programs that take over the terminal (`virsh console`): stdin, stdout and
 * stderr are inherited instead of captured. A Runner may provide
 * runInteractive (tests do); otherwise the program is started here.
 */
import { constants } from 'node:os';
import type { Command } from './command.js';
import { PROGRAM_LOCALE } from './spawn-options.js';
import { MissingToolError, type Runner } from './runner.js';

export async function runInteractive(runner: Runner, cmd: Command): Promise<number> {
  if (runner.runInteractive) return runner.runInteractive(cmd);
  const { execa } = await import('execa');
  const result = await execa(cmd.program, cmd.args, { env: { ...PROGRAM_LOCALE }, stdio: 'inherit', reject: false });
  // Ended by a signal (Ctrl-C reaches the whole process group): the shell's convention, 128 + its number.
  if (result.exitCode === undefined && result.signal) return 128 + (constants.signals[result.signal as NodeJS.Signals] ?? 0);
  if (result.exitCode === undefined) {
    if ((result as { code?: string }).code === 'ENOENT') throw new MissingToolError(cmd.program);
    throw new Error(`could not run ${cmd.program}: ${result.message}`);
  }
  return result.exitCode;
}
