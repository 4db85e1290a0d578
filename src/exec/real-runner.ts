import type { Command, CommandResult } from './command.js';
import { InterruptedError } from '../errors.js';
import { CommandTimeoutError, MissingToolError, type Runner } from './runner.js';

/** Runs programs for real with execa; LC_ALL=C so their messages are parseable. */
export class RealRunner implements Runner {
  /** With a signal, a read still running when it fires is cancelled; writes are left to finish so their undo is known. */
  constructor(private readonly signal?: AbortSignal) {}

  async run(cmd: Command): Promise<CommandResult> {
    // Loaded on first use: execa is the largest part of the bundle, and --help or a
    // usage error never runs a program.
    const { execa } = await import('execa');
    const result = await execa(cmd.program, cmd.args, {
      env: { LC_ALL: 'C', LANG: 'C' },
      input: cmd.input,
      stdin: cmd.input === undefined ? 'ignore' : undefined,
      reject: false,
      stripFinalNewline: false,
      timeout: cmd.timeoutMs,
      cancelSignal: cmd.mutates ? undefined : this.signal,
      maxBuffer: 512 * 1024 * 1024,
    });
    if (result.timedOut) throw new CommandTimeoutError(cmd);
    if (result.isCanceled) throw new InterruptedError(`interrupted while running ${cmd.program}`);
    if (result.exitCode === undefined) {
      const code = (result as { code?: string }).code;
      if (code === 'ENOENT') throw new MissingToolError(cmd.program);
      throw new Error(`could not run ${cmd.program}: ${result.message}`);
    }
    return { stdout: result.stdout ?? '', stderr: result.stderr ?? '', exitCode: result.exitCode };
  }
}
