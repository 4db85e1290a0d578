/** MAC addresses as a NIC's own address: the one rule for `vm create --network mac=` and `net reserve --mac`. */
import { UsageError } from '../errors.js';

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Why the text is not a NIC's MAC address, or undefined when it is one. */
function macProblem(text: string): string | undefined {
  if (!MAC_PATTERN.test(text)) return 'not six hex pairs separated by colons';
  // The group bit: a multicast MAC can never be a NIC's own address.
  if (parseInt(text.slice(0, 2), 16) & 1) return 'it is a multicast address';
  // The kernel's is_valid_ether_addr() rejects all zeros: no NIC has it.
  if (/^00(:00){5}$/.test(text)) return 'all zeros is no NIC\'s address';
  return undefined;
}

/** The MAC in lower case, or undefined when it cannot be a NIC's address. */
export function normalizeMac(text: string): string | undefined {
  return macProblem(text) === undefined ? text.toLowerCase() : undefined;
}

/** The MAC in lower case; a UsageError (exit 2) saying why otherwise. */
export function parseMac(text: string): string {
  const problem = macProblem(text);
  if (problem !== undefined) {
    throw new UsageError(`invalid MAC address ${JSON.stringify(text)}: ${problem}`, 'use a unicast MAC of six hex pairs, e.g. --mac 52:54:00:12:34:56');
  }
  return text.toLowerCase();
}
