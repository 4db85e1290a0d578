/** Kernel settings kvmctl changes: only net.ipv4.ip_forward, of the network namespace it runs in. */
import { mutatingCommand, readCommand, type Command } from '../exec/command.js';

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
