/** Host names as DNS has them (RFC 1123): the one rule for `vm create/clone --hostname`, `net create --domain` and `net reserve --hostname`. */
import { UsageError } from '../errors.js';

/** One label: letters, digits and '-', 1 to 63 characters, no '-' at either end. */
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

/** A single DNS label (`net reserve --hostname`: dnsmasq hands out a bare host name). */
export const HOST_LABEL = new RegExp(`^${LABEL}$`);

/** Dot-separated labels, at most 253 characters in all (a guest's host name, a network's DNS domain). */
export const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);

/** A guest's host name (`--hostname` of vm create and vm clone); a UsageError (exit 2) saying the rule otherwise. */
export function checkHostname(flag: string, text: string): string {
  if (!HOSTNAME.test(text)) throw new UsageError(`${flag} ${JSON.stringify(text)}: not a valid host name`, 'use letters, digits and "-", dot-separated labels of at most 63 characters');
  return text;
}
