import { formatCommand, UNPRINTABLE, type Command, type CommandResult } from './command.js';
import type { Runner } from './runner.js';
import type { Conversation, Opening } from './conversation.js';

/** Conversations are reads (dry-run runs them, fault injection leaves them alone); a write never starts one. */
export function readConversation(inner: Runner): ((cmd: Command, opening?: Opening) => Conversation) | undefined {
  const converse = inner.converse?.bind(inner);
  if (!converse) return undefined;
  return (cmd, opening) => {
    if (cmd.mutates) throw new Error(`${formatCommand(cmd)}: a command that changes state cannot be fed its input in rounds`);
    return converse(cmd, opening);
  };
}

/**
 * Reads still run so the plan is real; each state-changing command is printed
 * to stderr (with the input it would receive) and skipped.
 */
export class DryRunRunner implements Runner {
  readonly converse?: (cmd: Command, opening?: Opening) => Conversation;

  constructor(
    private readonly inner: Runner,
    private readonly write: (text: string) => void,
  ) {
    this.converse = readConversation(inner);
  }

  async run(cmd: Command): Promise<CommandResult> {
    if (!cmd.mutates) return this.inner.run(cmd);
    this.write(`[dry-run] would run: ${formatCommand(cmd)}\n`);
    if (cmd.input !== undefined) this.write(`[dry-run] with input:\n${cmd.input.endsWith('\n') ? cmd.input : cmd.input + '\n'}`);
    return { stdout: '', stderr: '', exitCode: 0 };
  }
}

/** Prints every command to stderr before running it (-v). */
export class VerboseRunner implements Runner {
  /** A conversation prints its command once, then each line written to it as `< LINE`. */
  readonly converse?: (cmd: Command, opening?: Opening) => Conversation;

  constructor(
    private readonly inner: Runner,
    private readonly write: (text: string) => void,
  ) {
    const converse = inner.converse?.bind(inner);
    if (converse) this.converse = (cmd, opening) => this.traced(cmd, converse(cmd, opening));
  }

  private traced(cmd: Command, c: Conversation): Conversation {
    this.write(`+ ${formatCommand(cmd)} (reading its input in rounds)\n`);
    return {
      ...(c.token !== undefined && { token: c.token }),
      send: (input, until) => {
        for (const line of input.split('\n').filter((l) => l !== '')) this.write(`< ${printable(line)}\n`);
        return c.send(input, until);
      },
      end: async () => {
        const result = await c.end();
        if (result.exitCode !== 0) this.write(`  exit ${result.exitCode}${result.stderr ? `: ${result.stderr.trim()}` : ''}\n`);
        return result;
      },
    };
  }

  async run(cmd: Command): Promise<CommandResult> {
    this.write(`+ ${formatCommand(cmd)}\n`);
    const result = await this.inner.run(cmd);
    if (result.exitCode !== 0) this.write(`  exit ${result.exitCode}${result.stderr ? `: ${result.stderr.trim()}` : ''}\n`);
    return result;
  }
}

/** A line written to a program, safe to print: characters that would drive the terminal as \u escapes. */
function printable(line: string): string {
  return line.replace(new RegExp(UNPRINTABLE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
