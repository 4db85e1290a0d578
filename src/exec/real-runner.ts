import { execa } from 'execa';
import type { Command, CommandResult } from './command.js';
import { CommandTimeoutError, MissingToolError, type Runner } from './runner.js';

/** Runs programs for real with execa; LC_ALL=C so their messages are parseable. */
export class RealRunner implements Runner {
  async run(cmd: Command): Promise<CommandResult> {
    const result = await execa(cmd.program, cmd.args, {
      env: { LC_ALL: 'C', LANG: 'C' },
      input: cmd.input,
      stdin: cmd.input === undefined ? 'ignore' : undefined,
      reject: false,
      stripFinalNewline: false,
      timeout: cmd.timeoutMs,
      maxBuffer: 512 * 1024 * 1024,
    });
    if (result.timedOut) throw new CommandTimeoutError(cmd);
    if (result.exitCode === undefined) {
      const code = (result as { code?: string }).code;
      if (code === 'ENOENT') throw new MissingToolError(cmd.program);
      throw new Error(`could not run ${cmd.program}: ${result.message}`);
    }
    return { stdout: result.stdout ?? '', stderr: result.stderr ?? '', exitCode: result.exitCode };
  }
}
