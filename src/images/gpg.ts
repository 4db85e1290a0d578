/** gpgv checks of a SUMS file's detached signature against a distribution keyring. */
import { readCommand, type Command } from '../exec/command.js';

export const gpgCommands = {
  verify: (keyring: string, signature: string, data: string): Command => readCommand('gpgv', ['--keyring', keyring, '--', signature, data]),
};
