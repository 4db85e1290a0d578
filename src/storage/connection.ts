import type { Runner } from '../exec/runner.js';
import type { LocalFs } from '../local-fs.js';

/**
 * What storage code needs of one connection: its runner, its URI, and the
 * files of the host that URI names. A Context is one; so is each host of a
 * fan-out. Nothing in src/storage takes the whole Context.
 */
export interface StorageConnection {
  readonly runner: Runner;
  readonly uri: string;
  readonly fs: LocalFs;
}
