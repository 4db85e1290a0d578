import { formatCommand, type Command, type CommandResult } from './command.js';
import type { Runner } from './runner.js';
import { ConversationEndedError, type Conversation, type Reply, type Until } from './conversation.js';

export interface Stub {
  /** Matches when program + args equal this argv exactly, or when the predicate returns true. */
  match: string[] | ((cmd: Command) => boolean);
  result: Partial<CommandResult> | ((cmd: Command) => Partial<CommandResult>);
  /** How many calls it answers (default 1); Infinity for any number. */
  times?: number;
}

/** A conversation's stub: the command it answers and the reply to each round. */
export interface ConversationStub {
  match: Stub['match'];
  /** The reply to round `round` (0-based) given what was written; with exitCode, the program exits after printing it. */
  reply: (input: string, round: number, until: Until) => Partial<Reply> & { exitCode?: number };
  /** How many rounds it must be sent (verify() checks); any number when absent. */
  rounds?: number;
  used: boolean;
  sent: number;
}

export interface FakeRunnerOptions {
  /**
   * Stubs may be left unused. Only for tests that have not yet been made to
   * stub exactly what runs; the unit tests' setup verifies every other fake.
   */
  allowUnused?: boolean;
}

/**
 * A recording fake for tests: answers only the commands it was told about and
 * throws on anything else; verify() fails on stubs that were never used, and
 * the unit tests' setup (test/support/setup.ts) calls it after every test for
 * each fake the test made.
 */
export class FakeRunner implements Runner {
  /** Every fake made since the last drain (the test setup verifies them after each test). */
  private static made: FakeRunner[] = [];
  readonly calls: Command[] = [];
  private readonly stubs: Array<Stub & { used: number }> = [];
  private readonly conversations: ConversationStub[] = [];
  /** What was written to each conversation, round by round, in the order they started. */
  readonly sent: string[][] = [];
  readonly allowUnused: boolean;

  constructor(options: FakeRunnerOptions = {}) {
    this.allowUnused = options.allowUnused ?? false;
    FakeRunner.made.push(this);
  }

  /** The fakes made since the last call, and forgets them. */
  static drain(): FakeRunner[] {
    const made = FakeRunner.made;
    FakeRunner.made = [];
    return made;
  }

  stub(match: Stub['match'], result: Stub['result'], times = 1): this {
    this.stubs.push({ match, result, times, used: 0 });
    return this;
  }

  async run(cmd: Command): Promise<CommandResult> {
    this.calls.push(cmd);
    const stub = this.stubs.find((s) => s.used < (s.times ?? 1) && matches(s.match, cmd));
    if (!stub) throw new Error(`FakeRunner: unexpected command: ${formatCommand(cmd)}`);
    stub.used++;
    const r = typeof stub.result === 'function' ? stub.result(cmd) : stub.result;
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode: r.exitCode ?? 0 };
  }

  /** Answers one conversation (a process fed in rounds, exec/conversation.ts); it counts in calls like a run. */
  stubConversation(match: Stub['match'], reply: ConversationStub['reply'], rounds?: number): this {
    this.conversations.push({ match, reply, ...(rounds !== undefined && { rounds }), used: false, sent: 0 });
    return this;
  }

  converse(cmd: Command): Conversation {
    this.calls.push(cmd);
    const stub = this.conversations.find((s) => !s.used && matches(s.match, cmd));
    if (!stub) throw new Error(`FakeRunner: unexpected conversation: ${formatCommand(cmd)}`);
    stub.used = true;
    const inputs: string[] = [];
    this.sent.push(inputs);
    let exited: number | undefined;
    return {
      send: async (input, until) => {
        if (exited !== undefined) throw new ConversationEndedError(cmd, { stdout: '', stderr: '', exitCode: exited });
        inputs.push(input);
        const r = stub.reply(input, stub.sent++, until);
        const reply = { stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
        if (r.exitCode !== undefined) {
          exited = r.exitCode;
          throw new ConversationEndedError(cmd, { ...reply, exitCode: r.exitCode });
        }
        // The real program would leave the round waiting for ever.
        if (!reply.stdout.includes(until.stdout) || !reply.stderr.includes(until.stderr)) throw new Error(`FakeRunner: the reply to round ${stub.sent - 1} of ${formatCommand(cmd)} does not end the round`);
        return reply;
      },
      end: async () => ({ stdout: '', stderr: '', exitCode: exited ?? 0 }),
    };
  }

  /** Throws if a stub with a finite count was not used up, or a conversation was not had (or had another number of rounds). */
  verify(): void {
    const unused = this.stubs.filter((s) => s.times !== Infinity && s.used < (s.times ?? 1));
    if (unused.length > 0) {
      throw new Error(`FakeRunner: ${unused.length} stub(s) never called: ${unused.map((s) => describe(s.match)).join('; ')}`);
    }
    for (const c of this.conversations) {
      if (!c.used) throw new Error(`FakeRunner: conversation never started: ${describe(c.match)}`);
      if (c.rounds !== undefined && c.sent !== c.rounds) throw new Error(`FakeRunner: conversation ${describe(c.match)} had ${c.sent} round(s), expected ${c.rounds}`);
    }
  }

  argvs(): string[] {
    return this.calls.map(formatCommand);
  }
}

function matches(match: Stub['match'], cmd: Command): boolean {
  if (typeof match === 'function') return match(cmd);
  const argv = [cmd.program, ...cmd.args];
  return argv.length === match.length && argv.every((a, i) => a === match[i]);
}

function describe(match: Stub['match']): string {
  return typeof match === 'function' ? '<predicate>' : match.join(' ');
}
