/** Names of libvirt objects (VMs, pools, volumes, networks, snapshots) and of bridges, as kvmctl accepts them. */
import { UsageError } from '../errors.js';
import { MAX_LINK_NAME_BYTES, validateLibvirtBridgeName } from '../net/link-name.js';

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

/** What the name of a new VM, pool, volume, network or snapshot may hold, as --help says it. */
export const NEW_NAME_RULE = `letters, digits, '-', '_' and '.', starting with a letter or digit, at most ${MAX_NAME_LENGTH} bytes`;
/** The same rule, short, for commander's argument and option descriptions. */
export const NEW_NAME_HELP = `letters, digits, - _ . (starting with a letter or digit; at most ${MAX_NAME_LENGTH} characters)`;
const NEW_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NAME_EXAMPLES: Record<NamedKind, string> = { VM: 'web1', pool: 'images', volume: 'data1.qcow2', network: 'lan1', snapshot: 'before-upgrade' };

/** A name made valid by the rule's own means, for the hint; the kind's example when nothing of it is left. */
function suggestedName(kind: NamedKind, name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/--+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
  return NEW_NAME.test(s) ? s : NAME_EXAMPLES[kind];
}

/**
 * The name of an object kvmctl is about to create: only NEW_NAME_RULE, so the
 * name means the same to every shell, table, file name and XML it reaches.
 * Names of existing objects go through validateName alone: a VM named 'a;b'
 * by virsh stays operable by every verb that does not create. A snapshot
 * name is not all digits.
 * @param from what gave the name, e.g. "--name" (default: "a new VM's name")
 */
export function validateNewName(kind: NamedKind, name: string, from = `a new ${kind}'s name`): string {
  const hint = `use ${NEW_NAME_RULE}, e.g. ${suggestedName(kind, name)}`;
  try {
    validateName(kind, name);
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(e.message, hint) : e;
  }
  // qemu-img reads an all-digit snapshot name as a snapshot id.
  if (kind === 'snapshot' && /^\d+$/.test(name)) {
    throw new UsageError(`invalid snapshot name ${JSON.stringify(name)}: it is all digits, which qemu-img reads as a snapshot id`, 'add a letter, e.g. snap1');
  }
  if (NEW_NAME.test(name)) return name;
  const bad = [...name].find((c) => !/[A-Za-z0-9_.-]/.test(c)) ?? '';
  const why = /^[._]/.test(name)
    ? `it starts with ${JSON.stringify(name[0])}`
    : /[^\x20-\x7e]/.test(bad)
      ? `it contains characters other than printable ASCII (${JSON.stringify(bad)})`
      : `it contains ${bad === ' ' ? 'a space' : JSON.stringify(bad)}`;
  throw new UsageError(
    `invalid ${kind} name ${JSON.stringify(name)}: ${why}; ${from} may hold only ${NEW_NAME_RULE}`,
    `use e.g. ${suggestedName(kind, name)}`,
  );
}

/**
 * The name of a bridge kvmctl is about to create: one libvirt accepts (at most
 * 15 bytes of letters, digits, - _ .) that starts with a letter or digit, like
 * every other new name.
 */
export function validateNewBridgeName(name: string): string {
  validateLibvirtBridgeName(name);
  if (!/^[A-Za-z0-9]/.test(name)) {
    throw new UsageError(
      `invalid bridge name ${JSON.stringify(name)}: it starts with ${JSON.stringify(name[0])}; a new bridge's name may hold only letters, digits, '-', '_' and '.', starting with a letter or digit, at most ${MAX_LINK_NAME_BYTES} bytes`,
      `use e.g. ${name.replace(/^[^A-Za-z0-9]+/, '') || 'br0'}`,
    );
  }
  return name;
}
