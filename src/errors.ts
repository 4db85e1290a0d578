/**
 * The one documented exit-code table and the error classes that map onto it.
 * main.ts is the only place that turns an error into a process exit code.
 */
export enum ExitCode {
  Ok = 0,
  /** The operation failed (a tool or libvirt reported an error). */
  Failure = 1,
  /** Bad usage or invalid input; rejected before any side effect. */
  Usage = 2,
  /** The named object does not exist. */
  NotFound = 3,
  /** The object already exists, or conflicts with an existing one. */
  Conflict = 4,
  /** Refused: unsafe, in use, or a precondition is missing (daemon, tool). */
  Refused = 5,
  /** Timed out waiting for a state. */
  Timeout = 6,
  /** A multi-step operation failed midway and everything it did was undone. */
  RolledBack = 7,
  /** A multi-step operation failed midway and could not undo all of it. */
  Partial = 8,
  /** -H on many hosts: some failed (each is an error row); the others' results are shown. */
  PartialResult = 9,
  /** Interrupted by SIGINT, SIGTERM, SIGHUP or SIGQUIT (after rolling back what it could). */
  Interrupted = 130,
}

export const EXIT_CODE_DOCS: ReadonlyArray<[ExitCode, string]> = [
  [ExitCode.Ok, 'success (also: nothing to do, the object was already as asked)'],
  [ExitCode.Failure, 'the operation failed; the message says which tool or libvirt call failed'],
  [ExitCode.Usage, 'bad usage or invalid input, rejected before any change'],
  [ExitCode.NotFound, 'the named VM, pool, volume, network or bridge does not exist'],
  [ExitCode.Conflict, 'already exists with a different spec, or conflicts with an existing object'],
  [ExitCode.Refused, 'refused: unsafe, in use, or a precondition is missing (daemon, tool, KVM); vm migrate: its pre-check refused, nothing moved'],
  [ExitCode.Timeout, 'timed out waiting for a state; vm migrate: --timeout passed, the job was aborted, the VM runs on the source'],
  [ExitCode.RolledBack, 'failed midway; everything the command had done was undone (vm migrate: the VM runs on the source, nothing is left on the target)'],
  [ExitCode.Partial, 'failed midway and could not undo everything; the message lists what is left (vm migrate: the VM runs nowhere; the hint gives the commands that recover it)'],
  [ExitCode.PartialResult, 'with -H: some hosts failed or did not answer in time (one error row each); the others are shown (when every host failed: their common exit code, else 1)'],
  [ExitCode.Interrupted, 'interrupted (Ctrl-C, SIGTERM, a dropped session\'s SIGHUP, SIGQUIT); rolled back what it could (vm migrate: the job was aborted, the VM runs on the source)'],
];

/** The object an error is about, as the JSON error object names it. */
export interface ErrorSubject {
  kind: string;
  name: string;
}

/** Base class: every user-facing error has a message, an optional next step and the object it is about. */
export class KvmctlError extends Error {
  readonly exitCode: ExitCode = ExitCode.Failure;
  readonly object?: ErrorSubject;
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; object?: ErrorSubject },
  ) {
    super(message, options);
    this.name = new.target.name;
    if (options?.object) this.object = options.object;
  }
}

/** The base of an error class that differs from KvmctlError only in its exit code. */
function exitingWith(code: ExitCode) {
  return class extends KvmctlError {
    override readonly exitCode: ExitCode = code;
  };
}

export class UsageError extends exitingWith(ExitCode.Usage) {}
export class NotFoundError extends exitingWith(ExitCode.NotFound) {}
export class ConflictError extends exitingWith(ExitCode.Conflict) {}
export class RefusedError extends exitingWith(ExitCode.Refused) {}
export class TimeoutError extends exitingWith(ExitCode.Timeout) {}
export class RolledBackError extends exitingWith(ExitCode.RolledBack) {}

export class PartialError extends KvmctlError {
  override readonly exitCode = ExitCode.Partial;
  constructor(
    message: string,
    readonly leftovers: string[],
    hint?: string,
    options?: { cause?: unknown; object?: ErrorSubject },
  ) {
    super(message, hint, options);
  }
}

export class PartialResultError extends exitingWith(ExitCode.PartialResult) {}
export class InterruptedError extends exitingWith(ExitCode.Interrupted) {}

/**
 * The command ran a program on the user's behalf (ssh, a command in the guest)
 * and ends with that program's exit status, which says everything: nothing is printed.
 */
export class PassedExitStatus extends KvmctlError {
  override readonly exitCode: ExitCode;
  constructor(readonly status: number) {
    super(`exit status ${status}`);
    this.exitCode = status as ExitCode;
  }
}

/**
 * A classified error told in the words of the step that met it (e.g. "network
 * x could not start: ..."): same exit code and object, a hint for that step,
 * the original error as its cause.
 */
export class RestatedError extends KvmctlError {
  override readonly exitCode: ExitCode;
  constructor(cause: KvmctlError, message: string, hint?: string) {
    super(message, hint ?? cause.hint, { cause, object: cause.object });
    this.exitCode = cause.exitCode;
  }
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof KvmctlError ? err.exitCode : ExitCode.Failure;
}
