/**
 * A conversation's process started before kvmctl has loaded: bin/kvmctl starts
 * the virsh session a command will hold (src/early.ts decides which) and then
 * loads the bundle, so virsh starts and connects while the bundle is evaluated.
 * The bundle's runner takes the process over when the command asks for exactly
 * that conversation (RealRunner.converse); a process nobody asked for is stopped
 * when the run ends. Nothing reads it before then: its pipes hold what it prints.
 */
import type { Command } from './command.js';
import { spawnConversation, type Opening, type Spawned, type Written } from './conversation.js';
import { rmSync } from 'node:fs';

export interface EarlyStart {
  /**
   * The process, when cmd is the command it runs, it is still running and, if it was given its first round, `opening`
   * makes that round byte for byte from the token it was made with; it is then the caller's (once), with what it was given.
   */
  claim(cmd: Command, opening?: Opening): (Spawned & { written?: Written }) | undefined;
  /** Stops the process unless it was claimed, and removes its directories; resolves once it has exited. */
  release(): Promise<void>;
}

/** The signals that end a run of kvmctl before its own handlers exist. */
const EARLY_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What makes two conversations the same process: program, words, environment and private directories (a read, no input). */
function identity(cmd: Command): string | undefined {
  if (cmd.mutates || cmd.input !== undefined) return undefined;
  return JSON.stringify([cmd.program, cmd.args, cmd.env ?? {}, cmd.privateDirs ?? []]);
}

/** Spawns cmd now, as a conversation would (exec/conversation.ts), for the run to claim; `written` goes to its stdin at once. */
export function startEarly(cmd: Command, written?: Written): EarlyStart {
  const started = spawnConversation(cmd);
  const { child, dirs } = started;
  if (written) child.stdin.write(written.input);
  const id = identity(cmd);
  let state: 'waiting' | 'claimed' | 'released' = 'waiting';
  let gone = false;
  // A program that cannot start reports it here (not thrown), and is then simply not claimed.
  child.on('error', () => (gone = true));
  child.on('close', () => (gone = true));
  child.stdin.on('error', () => undefined);
  const removeDirs = () => {
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  };
  // An exit before the run ends (a second Ctrl-C) still stops it and removes its directories.
  const onExit = () => {
    if (state === 'claimed') return;
    child.kill('SIGTERM');
    removeDirs();
  };
  process.once('exit', onExit);
  // A signal that comes while the bundle still loads finds no handler of kvmctl's: stop the
  // process and remove its directories, then die of the signal as node would have.
  // Once kvmctl's own handlers are installed, they decide.
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    unlisten();
    onExit();
    process.kill(process.pid, sig);
  };
  const unlisten = () => {
    process.removeListener('exit', onExit);
    for (const sig of EARLY_SIGNALS) process.removeListener(sig, onSignal);
  };
  for (const sig of EARLY_SIGNALS) process.on(sig, onSignal);
  return {
    claim(wanted, opening) {
      if (state !== 'waiting' || gone || child.exitCode !== null || child.signalCode !== null || id === undefined || identity(wanted) !== id) return undefined;
      if (written && opening?.(written.token) !== written.input) return undefined;
      state = 'claimed';
      unlisten();
      return { ...started, ...(written && { written }) };
    },
    release() {
      if (state !== 'waiting') return Promise.resolve();
      state = 'released';
      unlisten();
      return new Promise<void>((resolve) => {
        const done = () => {
          removeDirs();
          resolve();
        };
        if (gone) return done();
        child.once('close', done);
        // Read to the end: a stream holding unread output never closes.
        child.stdout.resume();
        child.stderr.resume();
        child.stdin.end();
        child.kill('SIGTERM');
      });
    },
  };
}
