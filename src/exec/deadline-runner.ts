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
  /** A program was stopped because the deadline came (not for a timeout of its own): the host did not answer in time. */
  expired = false;

  constructor(
    private readonly inner: Runner,
    private readonly deadline: number,
  ) {
    const converse = inner.converse?.bind(inner);
    if (converse)
      this.converse = (cmd, opening) => {
        const { bounded, byDeadline } = this.bounded(cmd);
        const c = converse(bounded, opening);
        return { ...(c.token !== undefined && { token: c.token }), send: (input, until) => this.watch(byDeadline, () => c.send(input, until)), end: () => this.watch(byDeadline, () => c.end()) };
      };
  }

  async run(cmd: Command): Promise<CommandResult> {
    const { bounded, byDeadline } = this.bounded(cmd);
    return this.watch(byDeadline, () => this.inner.run(bounded));
  }

  /** The command with the time left as its timeout; byDeadline: that time is the deadline's, not a shorter one of its own. */
  private bounded(cmd: Command): { bounded: Command; byDeadline: boolean } {
    const left = Math.max(0, Math.floor(this.deadline - Date.now()));
    const timeoutMs = Math.min(cmd.timeoutMs ?? Infinity, left);
    if (timeoutMs <= 0) {
      this.expired = true;
      throw new CommandTimeoutError({ ...cmd, timeoutMs: 0 });
    }
    return { bounded: { ...cmd, timeoutMs }, byDeadline: timeoutMs === left };
  }

  /** Notes a timeout that the deadline set (the command's own, shorter, timeout is the command's failure). */
  private async watch<T>(byDeadline: boolean, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof CommandTimeoutError && byDeadline) this.expired = true;
      throw e;
    }
  }
}

/** What a host that ran out of its --host-timeout shows: the same words in -H rows, host list and placement. */
export function noAnswerWithin(hostTimeoutMs: number): string {
  return `no answer within ${hostTimeoutMs / 1000} s; its programs were stopped`;
}
