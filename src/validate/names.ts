/** Names of libvirt objects (VMs, pools, volumes, networks, snapshots) as kvmctl accepts them for creation. */
import { UsageError } from '../errors.js';

export type NamedKind = 'VM' | 'pool' | 'volume' | 'network' | 'snapshot';

const MAX_NAME_LENGTH = 200;

/**
 * One path component of printable characters: no '/', no leading '-' (would
 * read as an option), not '.' or '..', no control characters, at most 200 bytes.
 */
export function validateName(kind: NamedKind, name: string): string {
  const bad = (why: string) =>
    new UsageError(`invalid ${kind} name ${JSON.stringify(name)}: ${why}`, `use letters, digits, '-', '_' and '.', starting with a letter or digit`);
  if (name === '') throw bad('it is empty');
  if (Buffer.byteLength(name) > MAX_NAME_LENGTH) throw bad(`longer than ${MAX_NAME_LENGTH} bytes`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('it contains control characters');
  // Node decodes argv as UTF-8 and turns every invalid byte into U+FFFD: the name typed is not the name kvmctl would use.
  if (name.includes('\ufffd')) throw bad('it is not valid UTF-8 (or contains U+FFFD)');
  if (name.includes('/')) throw bad("it contains '/'");
  if (name === '.' || name === '..') throw bad('it is a relative path component');
  if (name.startsWith('-')) throw bad("it starts with '-'");
  if (/^\s|\s$/.test(name)) throw bad('it starts or ends with white space');
  return name;
}
