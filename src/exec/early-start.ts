/**
 * Processes started before kvmctl has loaded: bin/kvmctl starts the virsh
 * processes a command will run first (src/early.ts decides which: a session,
 * or the first batches) and then loads the bundle, so virsh starts and
 * connects while the bundle is evaluated. The bundle's runner takes a process
 * over when the command asks for exactly that conversation (RealRunner.converse)
 * or that run (RealRunner.run); a process nobody asked for is stopped when the
 * run ends. A conversation's output waits in its pipes (it prints only when
 * asked); a run's is read from the start (exec/capture.ts), since Node drops
 * what an exited child left unread.
 */
import type { Command } from './command.js';
import { capture, type Captured } from './capture.js';
import { spawnConversation, type Opening, type Spawned, type Written } from './conversation.js';
import { KILL_GRACE_MS, spawnRun } from './spawn-options.js';
import { rmSync } from 'node:fs';

export interface EarlyStart {
  /**
   * The conversation's process, when cmd is the command it runs, it is still running and, if it was given its first round, `opening`
   * makes that round byte for byte from the token it was made with; it is then the caller's (once), with what it was given.
   */
  claim(cmd: Command, opening?: Opening): (Spawned & { written?: Written }) | undefined;
  /** A run's process and what it has printed so far, when cmd is the command it runs and it could start; it is then the caller's (once). */
  claimRun(cmd: Command): Captured | undefined;
  /** Stops every process not claimed, and removes its directories; resolves once they have exited. */
  release(): Promise<void>;
}

/** The signals that end a run of kvmctl before its own handlers exist. */
const EARLY_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** What makes two commands the same process: program, words, environment and private directories (a read, no input). */
function identity(cmd: Command): string | undefined {
  if (cmd.mutates || cmd.input !== undefined) return undefined;
  return JSON.stringify([cmd.program, cmd.args, cmd.env ?? {}, cmd.privateDirs ?? []]);
}

interface Entry {
  kind: 'conversation' | 'run';
  id: string | undefined;
  child: Captured['child'] | Spawned['child'];
  /** A run's output so far. */
  run?: Captured;
  dirs: Record<string, string>;
  written?: Written;
  state: 'waiting' | 'claimed' | 'released';
  /** It could not start (or, for a conversation, has ended): not to be claimed. */
  gone: boolean;
}

/** Spawns cmd now, as a conversation would (exec/conversation.ts), for the run to claim; `written` goes to its stdin at once. */
export function startEarly(cmd: Command, written?: Written): EarlyStart {
  const started = spawnConversation(cmd);
  if (written) started.child.stdin.write(written.input);
  started.child.stdin.on('error', () => undefined);
  const entry: Entry = { kind: 'conversation', id: identity(cmd), ...started, ...(written && { written }), state: 'waiting', gone: false };
  started.child.on('close', () => (entry.gone = true));
  return earlyStart([entry]);
}

/** Spawns each command now, as a run would (RealRunner.run), for the run to claim. */
export function startEarlyRuns(cmds: Command[]): EarlyStart {
  const entries: Entry[] = [];
  try {
    for (const cmd of cmds) {
      const run = capture(spawnRun(cmd));
      entries.push({ kind: 'run', id: identity(cmd), child: run.child, run, dirs: {}, state: 'waiting', gone: false });
    }
  } catch (e) {
    // One could not be spawned: the ones started before it are stopped, and the run starts them all itself.
    for (const x of entries) x.child.kill('SIGTERM');
    throw e;
  }
  return earlyStart(entries);
}

function earlyStart(entries: Entry[]): EarlyStart {
  for (const e of entries) {
    // A program that cannot start reports it here (not thrown), and is then simply not claimed.
    e.child.on('error', () => (e.gone = true));
  }
  const removeDirs = (e: Entry) => {
    for (const d of Object.values(e.dirs)) rmSync(d, { recursive: true, force: true });
  };
  // An exit before the run ends (a second Ctrl-C) still stops them and removes their directories.
  const onExit = () => {
    for (const e of entries.filter((e) => e.state !== 'claimed')) {
      e.child.kill('SIGTERM');
      removeDirs(e);
    }
  };
  process.once('exit', onExit);
  // A signal that comes while the bundle still loads finds no handler of kvmctl's: stop the
  // processes and remove their directories, then die of the signal as node would have.
  // Once kvmctl's own handlers are installed, they decide.
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    unlisten();
    onExit();
    process.kill(process.pid, sig);
  };
  let listening = true;
  const unlisten = () => {
    if (!listening) return;
    listening = false;
    process.removeListener('exit', onExit);
    for (const sig of EARLY_SIGNALS) process.removeListener(sig, onSignal);
  };
  for (const sig of EARLY_SIGNALS) process.on(sig, onSignal);
  const take = (e: Entry) => {
    e.state = 'claimed';
    // The claimer holds the process and its output from now on; kept here too, a big output would stay until exit.
    e.run = undefined;
    if (entries.every((x) => x.state !== 'waiting')) unlisten();
  };
  const waiting = (kind: Entry['kind'], cmd: Command) => {
    const id = identity(cmd);
    return id === undefined ? undefined : entries.find((e) => e.kind === kind && e.state === 'waiting' && !e.gone && e.id === id);
  };
  return {
    claim(wanted, opening) {
      const e = waiting('conversation', wanted);
      if (!e || e.child.exitCode !== null || e.child.signalCode !== null) return undefined;
      if (e.written && opening?.(e.written.token) !== e.written.input) return undefined;
      take(e);
      return { child: e.child as Spawned['child'], dirs: e.dirs, ...(e.written && { written: e.written }) };
    },
    claimRun(wanted) {
      // A run that has exited is still claimed: what it printed was kept.
      const e = waiting('run', wanted);
      const run = e?.run;
      if (!e || !run) return undefined;
      take(e);
      return run;
    },
    async release() {
      const left = entries.filter((e) => e.state === 'waiting');
      for (const e of left) e.state = 'released';
      // Until they have stopped, an exit (a second Ctrl-C) still stops them and removes their directories.
      await Promise.all(left.map((e) => stop(e, () => removeDirs(e))));
      unlisten();
    },
  };
}

/** Stops a process nobody claimed, reading what it prints to the end (a stream holding unread output never closes). */
function stop(e: Entry, done: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let killer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(killer);
      done();
      resolve();
    };
    if (e.gone) return finish();
    const { child } = e;
    // A program that ignores SIGTERM does not hold kvmctl's exit: it gets SIGKILL, as a run's does.
    killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    if (e.run) {
      void e.run.ended.then(finish);
      child.kill('SIGTERM');
      return;
    }
    child.once('close', finish);
    child.once('error', finish);
    child.stdout.resume();
    child.stderr.resume();
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
