import { formatCommand, type Command, type CommandResult } from './command.js';
import type { Conversation, Opening } from './conversation.js';
import { KvmctlError, RefusedError, TimeoutError, type ErrorSubject } from '../errors.js';

/** Every external program kvmctl starts goes through a Runner. */
export interface Runner {
  /** Runs the command; resolves with its result whatever the exit status. */
  run(cmd: Command): Promise<CommandResult>;
  /** Runs it attached to the terminal (see exec/interactive.ts); resolves with its exit status. */
  runInteractive?(cmd: Command): Promise<number>;
  /**
   * Starts a read that takes its input in rounds (exec/conversation.ts): one
   * process, written to and read from until it is ended. Absent when the
   * runner cannot hold one; callers then fall back to run().
   */
  converse?(cmd: Command, opening?: Opening): Conversation;
}

/** A tool exited non-zero. Carries argv, status and stderr for classification. */
export class ToolError extends KvmctlError {
  constructor(
    readonly command: Command,
    readonly result: CommandResult,
    message?: string,
    hint?: string,
    object?: ErrorSubject,
  ) {
    super(message ?? `${formatCommand(command)} failed (exit ${result.exitCode}): ${firstLine(result.stderr || result.stdout)}`, hint, object ? { object } : undefined);
  }
}

/** Debian and Fedora packages that provide each program kvmctl runs. */
const PACKAGES: Record<string, { debian: string; fedora: string }> = {
  virsh: { debian: 'libvirt-clients', fedora: 'libvirt-client' },
  'qemu-img': { debian: 'qemu-utils', fedora: 'qemu-img' },
  ip: { debian: 'iproute2', fedora: 'iproute' },
  ss: { debian: 'iproute2', fedora: 'iproute' },
  bridge: { debian: 'iproute2', fedora: 'iproute' },
  iptables: { debian: 'iptables', fedora: 'iptables-nft' },
  'iptables-save': { debian: 'iptables', fedora: 'iptables-nft' },
  sysctl: { debian: 'procps', fedora: 'procps-ng' },
  genisoimage: { debian: 'genisoimage', fedora: 'genisoimage' },
  xorriso: { debian: 'xorriso', fedora: 'xorriso' },
};

export class MissingToolError extends RefusedError {
  constructor(readonly program: string) {
    const pkg = PACKAGES[program];
    super(
      `${program} is not installed (needed to run this command)`,
      pkg
        ? `install it: apt-get install ${pkg.debian} (Debian/Ubuntu) or dnf install ${pkg.fedora} (Fedora/RHEL)`
        : `install the package that provides ${program}`,
    );
  }
}

export class CommandTimeoutError extends TimeoutError {
  constructor(readonly command: Command) {
    super(`${formatCommand(command)} did not finish within ${command.timeoutMs} ms`, 'check that the daemon or tool is responsive, then retry');
  }
}

/** Runs the command and throws ToolError unless it exited 0. */
export async function runChecked(runner: Runner, cmd: Command): Promise<string> {
  const result = await runner.run(cmd);
  if (result.exitCode !== 0) throw new ToolError(cmd, result);
  return result.stdout;
}

export function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}
