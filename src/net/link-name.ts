/** Network interface names as the kernel accepts them (net/core/dev.c, dev_valid_name). */
import { UsageError } from '../errors.js';

/** IFNAMSIZ is 16 bytes including the terminating NUL. */
export const MAX_LINK_NAME_BYTES = 15;

/**
 * Checks a bridge or interface name before anything runs: at most 15 bytes, not
 * "." or "..", no '/', ':' or white space (the kernel's rules), and no leading
 * '-' so that it can never be read as an option by ip or iptables.
 */
export function validateLinkName(kind: 'bridge' | 'interface', name: string): string {
  const bad = (why: string) =>
    new UsageError(
      `invalid ${kind} name ${JSON.stringify(name)}: ${why}`,
      `use at most ${MAX_LINK_NAME_BYTES} bytes of letters, digits, '-', '_' and '.', e.g. br0 or virbr10`,
    );
  if (name === '') throw bad('it is empty');
  if (Buffer.byteLength(name) > MAX_LINK_NAME_BYTES) throw bad(`longer than ${MAX_LINK_NAME_BYTES} bytes (the kernel's limit)`);
  if (name === '.' || name === '..') throw bad('the kernel does not accept "." or ".."');
  if (name.includes('/')) throw bad("it contains '/'");
  if (name.includes(':')) throw bad("it contains ':'");
  if (/\s/.test(name)) throw bad('it contains white space');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('it contains control characters');
  if (name.startsWith('-')) throw bad("it starts with '-'");
  return name;
}

/**
 * A bridge name libvirt can use as well: its network and domain XML accept only
 * letters, digits and _ . - \\ : / in a device name (basictypes.rng,
 * deviceName); the kernel refuses ':' and '/', and a backslash is left out
 * too. A bridge kvmctl creates, or one a VM or libvirt network is to use, must
 * pass this: a bridge named with other bytes could never carry a VM.
 */
export function validateLibvirtBridgeName(name: string): string {
  validateLinkName('bridge', name);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new UsageError(
      `invalid bridge name ${JSON.stringify(name)}: libvirt accepts only letters, digits, '-', '_' and '.' in a bridge name`,
      `use at most ${MAX_LINK_NAME_BYTES} bytes of letters, digits, '-', '_' and '.', e.g. br0 or virbr10`,
    );
  }
  return name;
}
