/** "POOL/VOLUME" references as users type them. */
import { UsageError } from '../errors.js';
import { validateName } from '../validate/names.js';

export interface VolumeRef {
  pool: string;
  volume: string;
}

export function parseVolumeRef(text: string): VolumeRef {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.indexOf('/', slash + 1) !== -1) {
    throw new UsageError(`invalid volume reference ${JSON.stringify(text)}: expected POOL/VOLUME`, 'name the pool and the volume, e.g. default/web1.qcow2 (see kvmctl volume list)');
  }
  return { pool: validateName('pool', text.slice(0, slash)), volume: validateName('volume', text.slice(slash + 1)) };
}

export function formatVolumeRef(ref: VolumeRef): string {
  return `${ref.pool}/${ref.volume}`;
}

/**
 * A name for a pool, volume or snapshot kvmctl is about to create. On top of
 * the general rules: printable ASCII only, because virsh escapes other bytes
 * in its tables (LC_ALL=C), and kvmctl could not find the object again; a
 * snapshot name is not all digits, because qemu-img reads those as snapshot ids.
 */
export function validateNewName(kind: 'pool' | 'volume' | 'snapshot', name: string): string {
  validateName(kind, name);
  if (!/^[\x20-\x7e]+$/.test(name)) {
    throw new UsageError(`invalid ${kind} name ${JSON.stringify(name)}: it contains characters other than printable ASCII`, "use letters, digits, '-', '_' and '.'");
  }
  if (kind === 'snapshot' && /^\d+$/.test(name)) {
    throw new UsageError(`invalid snapshot name ${JSON.stringify(name)}: it is all digits, which qemu-img reads as a snapshot id`, 'add a letter, e.g. snap1');
  }
  return name;
}
