/**
 * Fault injection for tests of rollback: KVMCTL_FAULT=fail:K makes the K-th
 * state-changing command fail; hang:K makes it hang until interrupted. A list
 * (fail:3,fail:5) injects several, counted over the whole run, undo steps
 * included: fail:3,fail:5 makes step 3 fail and then the second undo too.
 * Read-only commands are never affected.
 */
import { formatCommand, type Command, type CommandResult } from './command.js';
import type { Runner } from './runner.js';
import type { Conversation, Opening } from './conversation.js';
import { readConversation } from './dry-run.js';
import { UsageError } from '../errors.js';

export interface FaultSpec {
  mode: 'fail' | 'hang';
  at: number;
}

/** One item: fail:K or hang:K. */
export function parseFaultSpec(text: string | undefined): FaultSpec | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(fail|hang):(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1) throw new UsageError(`invalid KVMCTL_FAULT ${JSON.stringify(text)}`, 'use fail:K or hang:K with K >= 1, or a comma-separated list such as fail:3,fail:5');
  return { mode: m[1] as FaultSpec['mode'], at: Number(m[2]) };
}

/** The whole KVMCTL_FAULT value: one item or a comma-separated list; no step may be named twice. */
export function parseFaultSpecs(text: string | undefined): FaultSpec[] {
  if (text === undefined || text === '') return [];
  const specs = text.split(',').map((item) => {
    const spec = parseFaultSpec(item);
    if (!spec) throw new UsageError(`invalid KVMCTL_FAULT ${JSON.stringify(text)}: empty item`, 'e.g. KVMCTL_FAULT=fail:3,fail:5');
    return spec;
  });
  const steps = specs.map((s) => s.at);
  if (new Set(steps).size !== steps.length) throw new UsageError(`invalid KVMCTL_FAULT ${JSON.stringify(text)}: a step is named twice`, 'name each step once');
  return specs;
}

export class FaultRunner implements Runner {
  private mutations = 0;
  private readonly specs: FaultSpec[];
  readonly converse?: (cmd: Command, opening?: Opening) => Conversation;

  /** write, when given, announces a hang (tests wait for it before they signal the process). */
  constructor(
    private readonly inner: Runner,
    spec: FaultSpec | FaultSpec[],
    private readonly signal?: AbortSignal,
    private readonly write?: (text: string) => void,
  ) {
    this.specs = Array.isArray(spec) ? spec : [spec];
    this.converse = readConversation(inner);
  }

  async run(cmd: Command): Promise<CommandResult> {
    if (!cmd.mutates) return this.inner.run(cmd);
    const step = ++this.mutations;
    const spec = this.specs.find((s) => s.at === step);
    if (!spec) return this.inner.run(cmd);
    if (spec.mode === 'hang') {
      this.write?.(`kvmctl: KVMCTL_FAULT: holding step ${step} until interrupted: ${formatCommand(cmd)}\n`);
      await new Promise<void>((resolve) => {
        if (this.signal?.aborted) return resolve();
        // An abort listener alone does not keep Node's event loop alive: without a timer the process would exit (13).
        const keepAlive = setInterval(() => undefined, 60_000);
        this.signal?.addEventListener('abort', () => (clearInterval(keepAlive), resolve()), { once: true });
      });
      return { stdout: '', stderr: `error: interrupted while running ${formatCommand(cmd)}\n`, exitCode: 130 };
    }
    return { stdout: '', stderr: `error: injected fault (KVMCTL_FAULT) at step ${step}: ${formatCommand(cmd)}\n`, exitCode: 1 };
  }
}
