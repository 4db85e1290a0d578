/**
 * Fault injection for tests of rollback: KVMCTL_FAULT=fail:K makes the K-th
 * state-changing command fail; hang:K makes it hang until interrupted.
 * Read-only commands are never affected.
 */
import { formatCommand, type Command, type CommandResult } from './command.js';
import type { Runner } from './runner.js';
import { UsageError } from '../errors.js';

export interface FaultSpec {
  mode: 'fail' | 'hang';
  at: number;
}

export function parseFaultSpec(text: string | undefined): FaultSpec | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(fail|hang):(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1) throw new UsageError(`invalid KVMCTL_FAULT ${JSON.stringify(text)}`, 'use fail:K or hang:K with K >= 1');
  return { mode: m[1] as FaultSpec['mode'], at: Number(m[2]) };
}

export class FaultRunner implements Runner {
  private mutations = 0;

  constructor(
    private readonly inner: Runner,
    private readonly spec: FaultSpec,
    private readonly signal?: AbortSignal,
  ) {}

  async run(cmd: Command): Promise<CommandResult> {
    if (!cmd.mutates) return this.inner.run(cmd);
    this.mutations++;
    if (this.mutations !== this.spec.at) return this.inner.run(cmd);
    if (this.spec.mode === 'hang') {
      await new Promise<void>((resolve) => {
        if (this.signal?.aborted) return resolve();
        this.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      return { stdout: '', stderr: `error: interrupted while running ${formatCommand(cmd)}\n`, exitCode: 130 };
    }
    return { stdout: '', stderr: `error: injected fault (KVMCTL_FAULT) at ${formatCommand(cmd)}\n`, exitCode: 1 };
  }
}
