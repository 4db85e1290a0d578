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

/** New pool, volume and snapshot names follow the rule of every new name. */
export { validateNewName } from '../validate/names.js';
