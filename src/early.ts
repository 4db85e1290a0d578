/**
 * The part of kvmctl that runs before the bundle loads (dist/early.cjs, which
 * bin/kvmctl requires first): from the words alone, the virsh session the
 * command will open, started at once (exec/early-start.ts). Only commands that
 * surely open one, on this machine, with the options that keep it so: any word
 * it does not know means no early start, and the run then spawns its session
 * itself. A guess that turns out wrong costs a virsh process that is stopped.
 */
import { startEarly, type EarlyStart } from './exec/early-start.js';
import { newSessionToken, roundInput, sessionAllowed, sessionCommand, typeable } from './libvirt/virsh-session.js';
import { VM_STATE_FILTERS, vmListFirstRound, type VmStateFilter } from './libvirt/vm-list-round.js';
import { isLocalUri, resolveUri } from './libvirt/uri.js';

/** Commands (noun verb) whose run holds one virsh session from the start. */
export const SESSION_COMMANDS = ['vm list'];

/** Global options that take a value, and the verbs' own (vm list --state). */
const VALUE_OPTIONS = new Set(['-c', '--connect', '-o', '--output', '--state', '--parallel', '--host-timeout']);
/** Flags that leave the command's session as it is. */
const FLAGS = new Set(['--wide', '--dry-run', '-q', '--quiet', '-v', '--verbose', '--no-color']);

/** The session the words will open (its command, and vm list's --state), or undefined when that is not certain. */
export function earlySession(words: string[], env: Record<string, string | undefined>): { cmd: ReturnType<typeof sessionCommand>; state: VmStateFilter | undefined } | undefined {
  if (env.KVMCTL_FAULT) return undefined;
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const name = eq > 0 ? w.slice(0, eq) : w;
    if (VALUE_OPTIONS.has(name)) {
      const v = eq > 0 ? w.slice(eq + 1) : words[++i];
      const key = name === '-c' ? '--connect' : name === '-o' ? '--output' : name;
      if (v === undefined || values.has(key)) return undefined;
      values.set(key, v);
    } else if (FLAGS.has(w)) continue;
    else if (w.startsWith('-')) return undefined;
    else positional.push(w);
  }
  // -o name lists names with one batch, not a session.
  if (!SESSION_COMMANDS.includes(positional.join(' ')) || values.get('--output') === 'name') return undefined;
  // A state vm list refuses opens nothing.
  const state = values.get('--state');
  if (state !== undefined && !(VM_STATE_FILTERS as readonly string[]).includes(state)) return undefined;
  let uri: string;
  try {
    uri = resolveUri(values.get('--connect'), env);
  } catch {
    return undefined;
  }
  return isLocalUri(uri) && sessionAllowed(uri) ? { cmd: sessionCommand(uri), state: state as VmStateFilter | undefined } : undefined;
}

/** The session command the words will open, or undefined when that is not certain. */
export function earlySessionCommand(words: string[], env: Record<string, string | undefined>): ReturnType<typeof sessionCommand> | undefined {
  return earlySession(words, env)?.cmd;
}

/**
 * What the session of vm list writes first, with a new token: its first round (libvirt/vm-list-round.ts), as
 * SessionState would write it. The run claims the process only when its own first round is these bytes.
 */
export function earlyFirstRound(state: VmStateFilter | undefined): { token: string; input: string } {
  const token = newSessionToken();
  const words = Object.values(vmListFirstRound(state))
    .map((c) => c.words)
    .filter(typeable);
  return { token, input: roundInput(words, token, 0) };
}

/** Starts the session process of a run of kvmctl with these arguments (process.argv), when it is certain to hold one. */
export function startEarlySession(argv: string[], env: Record<string, string | undefined>): EarlyStart | undefined {
  const session = earlySession(argv.slice(2), env);
  // virsh runs the first round (domstats) while the bundle loads.
  return session === undefined ? undefined : startEarly(session.cmd, earlyFirstRound(session.state));
}
