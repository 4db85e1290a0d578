/** How kvmctl starts every program (a run or a conversation): argv only, LC_ALL=C, and a session of its own. */
import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Command } from './command.js';

/** Everything but stdio, which each caller sets where spawn's types can see it. */
export function spawnOptions(cmd: Command, env: Record<string, string> = {}): Omit<SpawnOptions, 'stdio'> {
  return {
    env: { ...process.env, ...cmd.env, ...env, LC_ALL: 'C', LANG: 'C' },
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
