/**
 * The part of kvmctl that runs before the bundle loads (dist/early.cjs, which
 * bin/kvmctl requires first): from the words alone, the virsh processes the
 * command will start first, started at once (exec/early-start.ts): vm list's
 * session, volume list's first two batches. Only commands that surely start
 * them, on this machine, with the options that keep it so: any word it does
 * not know means no early start, and the run then spawns its processes itself.
 * A guess that turns out wrong costs virsh reads that are stopped.
 */
import type { Command } from './exec/command.js';
import { startEarly, startEarlyRuns, type EarlyStart } from './exec/early-start.js';
import { newSessionToken, roundInput, sessionAllowed, sessionCommand, typeable } from './libvirt/virsh-session.js';
import { VM_STATE_FILTERS, vmListFirstRound, type VmStateFilter } from './libvirt/vm-list-round.js';
import { diskUsesFirstBatch, poolNamesCall, poolsBatch } from './libvirt/list-calls.js';
import { batchCommand } from './libvirt/virsh-client.js';
import { isLocalUri, resolveUri } from './libvirt/uri.js';

/** Commands (noun verb) whose first virsh processes start before the bundle loads, and the options of their own that take a value. */
export const EARLY_COMMANDS: Record<string, string[]> = { 'vm list': ['--state'], 'volume list': ['--pool'] };

/** Global options that take a value. */
const VALUE_OPTIONS = new Set(['-c', '--connect', '-o', '--output', '--parallel', '--host-timeout']);
const OWN_VALUE_OPTIONS = new Set(Object.values(EARLY_COMMANDS).flat());
/** Flags that leave the command's first processes as they are. */
const FLAGS = new Set(['--wide', '--dry-run', '-q', '--quiet', '-v', '--verbose', '--no-color']);

/** What a run of kvmctl starts first: vm list's session (and its --state), or volume list's batches. */
export type EarlyPlan = { session: Command; state: VmStateFilter | undefined } | { runs: Command[] };

/** The command words and option values, or undefined for a word that is not known here. */
function readWords(words: string[]): { command: string; values: Map<string, string> } | undefined {
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const name = eq > 0 ? w.slice(0, eq) : w;
    const own = OWN_VALUE_OPTIONS.has(name);
    if (VALUE_OPTIONS.has(name) || own) {
      // A command's own option is its own only after its verb (commander refuses it before).
      if (own && positional.length !== 2) return undefined;
      const v = eq > 0 ? w.slice(eq + 1) : words[++i];
      const key = name === '-c' ? '--connect' : name === '-o' ? '--output' : name;
      // An empty value, or one that looks like an option, is refused by the run itself: no guess on it.
      if (v === undefined || v === '' || v.startsWith('-') || values.has(key)) return undefined;
      values.set(key, v);
    } else if (FLAGS.has(w)) continue;
    else if (w.startsWith('-')) return undefined;
    else positional.push(w);
  }
  if (positional.length !== 2) return undefined;
  const command = positional.join(' ');
  const own = EARLY_COMMANDS[command];
  if (own === undefined || [...values.keys()].some((k) => OWN_VALUE_OPTIONS.has(k) && !own.includes(k))) return undefined;
  return { command, values };
}

/** The processes the words will start first, or undefined when that is not certain. */
export function earlyPlan(words: string[], env: Record<string, string | undefined>): EarlyPlan | undefined {
  if (env.KVMCTL_FAULT) return undefined;
  const read = readWords(words);
  if (read === undefined) return undefined;
  let uri: string;
  try {
    uri = resolveUri(read.values.get('--connect'), env);
  } catch {
    return undefined;
  }
  if (!isLocalUri(uri) || !sessionAllowed(uri)) return undefined;
  if (read.command === 'volume list') {
    // The pools (named, or their names first) beside every VM's disks (storage/inventory.ts readStorage).
    const pool = read.values.get('--pool');
    const runs = [batchCommand(uri, pool === undefined ? { list: poolNamesCall() } : poolsBatch([pool])), batchCommand(uri, diskUsesFirstBatch())];
    return runs.every((r) => r !== undefined) ? { runs: runs as Command[] } : undefined;
  }
  // -o name lists names with one batch, not a session; a state vm list refuses opens nothing.
  const state = read.values.get('--state');
  if (read.values.get('--output') === 'name' || (state !== undefined && !(VM_STATE_FILTERS as readonly string[]).includes(state))) return undefined;
  return { session: sessionCommand(uri), state: state as VmStateFilter | undefined };
}

/** The session command the words will open, or undefined when that is not certain. */
export function earlySessionCommand(words: string[], env: Record<string, string | undefined>): Command | undefined {
  const plan = earlyPlan(words, env);
  return plan && 'session' in plan ? plan.session : undefined;
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

/** Starts the first processes of a run of kvmctl with these arguments (process.argv), when it is certain to start them. */
export function startEarlyProcesses(argv: string[], env: Record<string, string | undefined>): EarlyStart | undefined {
  const plan = earlyPlan(argv.slice(2), env);
  if (plan === undefined) return undefined;
  try {
    // virsh runs the first round (domstats) while the bundle loads.
    return 'session' in plan ? startEarly(plan.session, earlyFirstRound(plan.state)) : startEarlyRuns(plan.runs);
  } catch {
    // Nothing could start (no TMPDIR for the session's directory, no process to spare): the run starts
    // its processes itself and reports that failure as it reports any other.
    return undefined;
  }
}
