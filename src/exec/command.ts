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

/** Renders argv for humans (logs, dry-run); quoting is for display only, nothing is ever run through a shell. */
export function formatCommand(cmd: Pick<Command, 'program' | 'args'>): string {
  return [cmd.program, ...cmd.args].map(shellQuoteForDisplay).join(' ');
}

export function shellQuoteForDisplay(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
