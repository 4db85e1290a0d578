import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where kvmctl keeps its own small state (locks, the journal of unfinished
 * operations, what `net nat` changed): $KVMCTL_STATE_DIR, else /var/lib/kvmctl
 * for root, else ~/.local/state/kvmctl.
 */
export function stateDir(env: Record<string, string | undefined>): string {
  if (env.KVMCTL_STATE_DIR) return env.KVMCTL_STATE_DIR;
  return process.getuid?.() === 0 ? '/var/lib/kvmctl' : join(env.HOME ?? homedir(), '.local', 'state', 'kvmctl');
}
