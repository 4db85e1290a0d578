import { formatCommand, type Command, type CommandResult } from './command.js';
import type { Runner } from './runner.js';

/**
 * Reads still run so the plan is real; each state-changing command is printed
 * to stderr (with the input it would receive) and skipped.
 */
export class DryRunRunner implements Runner {
  constructor(
    private readonly inner: Runner,
    private readonly write: (text: string) => void,
  ) {}

  async run(cmd: Command): Promise<CommandResult> {
    if (!cmd.mutates) return this.inner.run(cmd);
    this.write(`[dry-run] would run: ${formatCommand(cmd)}\n`);
    if (cmd.input !== undefined) this.write(`[dry-run] with input:\n${cmd.input.endsWith('\n') ? cmd.input : cmd.input + '\n'}`);
    return { stdout: '', stderr: '', exitCode: 0 };
  }
}

/** Prints every command to stderr before running it (-v). */
export class VerboseRunner implements Runner {
  constructor(
    private readonly inner: Runner,
    private readonly write: (text: string) => void,
  ) {}

  async run(cmd: Command): Promise<CommandResult> {
    this.write(`+ ${formatCommand(cmd)}\n`);
    const result = await this.inner.run(cmd);
    if (result.exitCode !== 0) this.write(`  exit ${result.exitCode}${result.stderr ? `: ${result.stderr.trim()}` : ''}\n`);
    return result;
  }
}
