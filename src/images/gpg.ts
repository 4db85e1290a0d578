/** gpgv checks of a SUMS file's detached signature against a distribution keyring. */
import { readCommand, type Command, type CommandResult } from '../exec/command.js';
import type { Runner } from '../exec/runner.js';

export const gpgCommands = {
  verify: (keyring: string, signature: string, data: string): Command => readCommand('gpgv', ['--keyring', keyring, '--', signature, data]),
};

/** Runs gpgv on a detached signature; exit status 0 means it verifies against the keyring. */
export function verifySignature(runner: Runner, keyring: string, signature: string, data: string): Promise<CommandResult> {
  return runner.run(gpgCommands.verify(keyring, signature, data));
}
