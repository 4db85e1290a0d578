import type { Command, CommandResult } from './command.js';
import { CommandTimeoutError, type Runner } from './runner.js';
import type { Conversation, Opening } from './conversation.js';

/**
 * Every program started for one host shares that host's deadline: each gets
 * the time that is left as its timeout, so a host whose daemon hangs (stopped,
 * unreachable behind a firewall) has its programs killed when the time is up.
 */
export class DeadlineRunner implements Runner {
  /** A conversation gets the time left when it starts, for all its rounds. */
  readonly converse?: (cmd: Command, opening?: Opening) => Conversation;

  constructor(
    private readonly inner: Runner,
    private readonly deadline: number,
  ) {
    const converse = inner.converse?.bind(inner);
    if (converse) this.converse = (cmd, opening) => converse(this.bounded(cmd), opening);
  }

  async run(cmd: Command): Promise<CommandResult> {
    return this.inner.run(this.bounded(cmd));
  }

  private bounded(cmd: Command): Command {
    const left = Math.max(0, Math.floor(this.deadline - Date.now()));
    const timeoutMs = Math.min(cmd.timeoutMs ?? Infinity, left);
    if (timeoutMs <= 0) throw new CommandTimeoutError({ ...cmd, timeoutMs: 0 });
    return { ...cmd, timeoutMs };
  }
}

/** What a host that ran out of its --host-timeout shows: the same words in -H rows, host list and placement. */
export function noAnswerWithin(hostTimeoutMs: number): string {
  return `no answer within ${hostTimeoutMs / 1000} s; its programs were stopped`;
}
