/**
 * The scripts `kvmctl completion SHELL` prints (kvmctl.bash, kvmctl.zsh,
 * kvmctl.fish, bundled as text). Each asks `kvmctl __complete` for the
 * candidates of the word at the cursor (engine.ts), so the scripts hold no
 * knowledge of kvmctl's commands and never go stale.
 */
import bash from './kvmctl.bash?raw';
import fish from './kvmctl.fish?raw';
import zsh from './kvmctl.zsh?raw';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell): string {
  return { bash, zsh, fish }[shell];
}
