/** How kvmctl starts every program (a run or a conversation): argv only, LC_ALL=C.UTF-8, and a session of its own. */
import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Command } from './command.js';

/**
 * The locale of every program kvmctl runs: C's untranslated messages and number formats, which
 * kvmctl parses, with UTF-8 characters (in the C locale virsh prints each byte of a name such as
 * "ü.img" as \xff, a name no command then finds). glibc has it built in since 2.35; where it is
 * missing, programs fall back to C.
 */
export const PROGRAM_LOCALE = { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } as const;

/** A program still running this long after SIGTERM (timeout, cancel, an early process nobody claimed) gets SIGKILL. */
export const KILL_GRACE_MS = 5000;
/** A run or conversation that prints more than this is stopped: the output is held in memory. */
export const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;

/** Everything but stdio, which each caller sets where spawn's types can see it. */
export function spawnOptions(cmd: Command, env: Record<string, string> = {}): Omit<SpawnOptions, 'stdio'> {
  return {
    env: { ...process.env, ...cmd.env, ...env, ...PROGRAM_LOCALE },
    // A session of its own, without kvmctl's terminal: virsh with a controlling terminal and no polkit
    // on the host prints "Authorization not available…" on stderr, which reads as a failed (empty) listing,
    // and the terminal's Ctrl-C would kill a write that kvmctl means to let finish.
    detached: true,
  };
}

/** Spawns cmd as a run: stdin from the given file (else none), stdout and stderr piped. */
export function spawnRun(cmd: Command, stdinFd?: number): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(cmd.program, cmd.args, { ...spawnOptions(cmd), stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'] }) as ChildProcessByStdio<null, Readable, Readable>;
}
