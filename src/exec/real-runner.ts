import { randomBytes } from 'node:crypto';
import { open, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, CommandResult } from './command.js';
import { InterruptedError } from '../errors.js';
import { CommandTimeoutError, MissingToolError, type Runner } from './runner.js';

/** Runs programs for real with execa; LC_ALL=C so their messages are parseable. */
export class RealRunner implements Runner {
  /** With a signal, a read still running when it fires is cancelled; writes are left to finish so their undo is known. */
  constructor(private readonly signal?: AbortSignal) {}

  async run(cmd: Command): Promise<CommandResult> {
    // Loaded on first use: execa is the largest part of the bundle, and --help or a
    // usage error never runs a program.
    const { execa } = await import('execa');
    const stdin = cmd.input === undefined ? undefined : await inputFile(cmd.input);
    const result = await execa(cmd.program, cmd.args, {
      env: { LC_ALL: 'C', LANG: 'C' },
      // execa's types list only a few fd numbers; any open descriptor works.
      stdin: stdin ? (stdin.fd as 0) : 'ignore',
      reject: false,
      stripFinalNewline: false,
      timeout: cmd.timeoutMs,
      cancelSignal: cmd.mutates ? undefined : this.signal,
      maxBuffer: 512 * 1024 * 1024,
    }).finally(() => stdin?.close());
    if (result.timedOut) throw new CommandTimeoutError(cmd);
    if (result.isCanceled) throw new InterruptedError(`interrupted while running ${cmd.program}`);
    if (result.exitCode === undefined) {
      const code = (result as { code?: string }).code;
      if (code === 'ENOENT') throw new MissingToolError(cmd.program);
      throw new Error(`could not run ${cmd.program}: ${result.message}`);
    }
    return { stdout: result.stdout ?? '', stderr: result.stderr ?? '', exitCode: result.exitCode };
  }
}

/**
 * The input as a file opened for reading and already unlinked. `virsh define
 * --file /dev/stdin` reopens its stdin, which fails (ENXIO) on the socket Node
 * uses for a piped stdin; a regular file reopens fine, and read(0) works too.
 */
async function inputFile(input: string): Promise<FileHandle> {
  const path = join(tmpdir(), `kvmctl-input-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(path, input, { mode: 0o600, flag: 'wx' });
  try {
    return await open(path, 'r');
  } finally {
    await unlink(path);
  }
}
