/** Kernel settings kvmctl changes: only net.ipv4.ip_forward, of the network namespace it runs in. */
import { mutatingCommand, readCommand, type Command } from '../exec/command.js';
import { runChecked, type Runner } from '../exec/runner.js';
import type { LocalFs } from '../local-fs.js';

export const IP_FORWARD_KEY = 'net.ipv4.ip_forward';
/** Read directly: /proc/sys/net shows the values of the reader's network namespace. */
export const IP_FORWARD_PATH = '/proc/sys/net/ipv4/ip_forward';

export function sysctlWriteCommand(key: string, value: string): Command {
  return mutatingCommand('sysctl', ['-w', `${key}=${value}`]);
}

/** "1\n" -> true; undefined when the file could not be read. */
export function parseFlag(text: string | undefined): boolean | undefined {
  return text === undefined ? undefined : text.trim() === '1';
}

/** Reads a /proc/sys file with cat, for a host whose files are only reachable through a command (ssh). */
export function sysctlFileReadCommand(path: string): Command {
  return readCommand('cat', ['--', path]);
}

/** The sysctls kvmctl reads and sets, bound to a runner (writes) and the host's files (reads). */
export class Sysctl {
  constructor(
    private readonly runner: Runner,
    private readonly fs: Pick<LocalFs, 'read'>,
  ) {}

  /** net.ipv4.ip_forward of kvmctl's namespace; undefined when /proc/sys could not be read. */
  async ipForward(): Promise<boolean | undefined> {
    return parseFlag(await this.fs.read(IP_FORWARD_PATH));
  }

  async set(key: string, value: string): Promise<void> {
    await runChecked(this.runner, sysctlWriteCommand(key, value));
  }
}
