/** An external program run as a value: program + argv, never a shell string. */
export interface Command {
  program: string;
  args: string[];
  /** Bytes fed to the program's stdin (XML for `virsh define /dev/stdin`, etc.). */
  input?: string;
  /** True when running it changes state; dry-run skips exactly these. */
  mutates: boolean;
  /** Kill the program after this many milliseconds. */
  timeoutMs?: number;
  /** Variables added to its environment (LC_ALL and LANG, C.UTF-8, still win). */
  env?: Record<string, string>;
  /** Variables set to an empty directory made for this program alone and removed once it exits (conversations). */
  privateDirs?: string[];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function readCommand(program: string, args: string[], extra: Partial<Command> = {}): Command {
  return { program, args, mutates: false, ...extra };
}

export function mutatingCommand(program: string, args: string[], extra: Partial<Command> = {}): Command {
  return { program, args, mutates: true, ...extra };
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
/**
 * What a terminal must not be handed raw: C0 and C1 controls, DEL, the
 * bidirectional marks, overrides and isolates (Unicode's Bidi_Control) and the
 * line and paragraph separators. Printed words and table cells escape them.
 */
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g');

/** Renders argv for humans (logs, dry-run, undo commands); nothing is ever run through a shell. */
export function formatCommand(cmd: Pick<Command, 'program' | 'args'>): string {
  return [cmd.program, ...cmd.args].map(shellQuote).join(' ');
}

/**
 * One word as bash reads it back: bare when it holds only safe characters,
 * else in single quotes; a word with control or bidirectional-override
 * characters becomes $'...' with those characters as escapes, so that what is
 * printed neither drives the terminal nor hides a part of the word, and pasting
 * it gives back exactly the same bytes.
 */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  if (!UNPRINTABLE.test(word)) return `'${word.replace(/'/g, `'\\''`)}'`;
  // Each byte of the character's UTF-8 as \xHH: bash decodes that the same in every locale.
  const hex = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  const body = word.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(UNPRINTABLE_ALL, hex);
  return `$'${body}'`;
}

/** A command line for a person to run by hand (undo hints): every word shell-quoted. */
export function shellLine(...words: string[]): string {
  return words.map(shellQuote).join(' ');
}

/** The URI kvmctl uses when none is given; a printed command names any other with -c. */
export const DEFAULT_URI = 'qemu:///system';

/**
 * A kvmctl command line for a person to run (hints, undo commands, doctor
 * output): every word shell-quoted, and `-c URI` when the URI in force is not
 * the default, so that pasting it acts on the same host and the same object
 * whatever the names hold. Words are the argv after "kvmctl".
 */
export function kvmctlCommand(uri: string | undefined, ...words: string[]): string {
  const connect = uri !== undefined && uri !== DEFAULT_URI ? ['-c', uri] : [];
  return ['kvmctl', ...connect, ...words].map(shellQuote).join(' ');
}
