/**
 * Multi-step operations that leave nothing behind: each step that creates
 * something registers how to undo it; a failure (or Ctrl-C) undoes them in
 * reverse order. Exit 7 when everything was undone, 8 with the leftovers named.
 */
import type { Journal } from './journal.js';
import { ExitCode, exitCodeOf, InterruptedError, KvmctlError, PartialError, RolledBackError } from '../errors.js';

export interface Undo {
  /** What was created, for the user: "volume default/web1.qcow2". */
  what: string;
  run: () => Promise<void>;
  /** A command a person can run to remove it by hand. */
  manual: string;
}

export interface TransactionOptions {
  /** Aborted on SIGINT/SIGTERM; checked between steps. */
  signal?: AbortSignal;
  /** Records what exists so far, so a run killed outright can be cleaned up later. */
  journal?: Journal;
}

export class Transaction {
  private undos: Undo[] = [];

  constructor(
    readonly label: string,
    private readonly options: TransactionOptions = {},
  ) {}

  /** Registers an undo; call it right after (or right before) the step that creates the thing. */
  onRollback(undo: Undo): void {
    this.undos.push(undo);
    this.options.journal?.record(this.label, this.undos.map(({ what, manual }) => ({ what, manual })));
  }

  /** Throws InterruptedError when a signal arrived; call between steps. */
  checkpoint(): void {
    if (this.options.signal?.aborted) throw new InterruptedError(`${this.label}: interrupted`);
  }

  async run<T>(body: (tx: Transaction) => Promise<T>): Promise<T> {
    try {
      this.checkpoint();
      const result = await body(this);
      this.checkpoint();
      this.undos = [];
      this.options.journal?.clear();
      return result;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // A step cut short by Ctrl-C fails like any other; the signal says why.
      const interrupted = err instanceof InterruptedError || this.options.signal?.aborted === true;
      if (this.undos.length === 0) {
        // Nothing to undo: an error with its own meaning (usage, conflict, …) stays as it is;
        // a failed step still says that the host is as it was.
        if (interrupted) throw err instanceof InterruptedError ? err : new InterruptedError(`${this.label}: interrupted (${reason}); it had changed nothing yet`, undefined, { cause: err });
        if (exitCodeOf(err) !== ExitCode.Failure) throw err;
        const hint = err instanceof KvmctlError ? err.hint : undefined;
        throw new RolledBackError(`${this.label} failed: ${reason}; it had changed nothing yet, so nothing is left`, hint, { cause: err });
      }
      const leftovers = await this.rollback();
      if (leftovers.length === 0) {
        if (interrupted) throw new InterruptedError(`${this.label}: interrupted; everything it had done was undone`, undefined, { cause: err });
        const hint = err instanceof KvmctlError ? err.hint : undefined;
        throw new RolledBackError(`${this.label} failed: ${reason}; everything it had done was undone`, hint, { cause: err });
      }
      throw new PartialError(
        `${this.label} failed: ${reason}; undoing it also failed, so some of it is left`,
        leftovers.map((u) => `${u.what} (remove with: ${u.manual})`),
        'run the commands listed above to remove what is left',
        { cause: err },
      );
    }
  }

  private async rollback(): Promise<Undo[]> {
    const failed: Undo[] = [];
    for (const undo of [...this.undos].reverse()) {
      try {
        await undo.run();
      } catch {
        failed.push(undo);
      }
    }
    this.undos = [];
    // What could not be undone is reported to the user now; the journal is for runs that cannot report.
    this.options.journal?.clear();
    return failed;
  }
}
