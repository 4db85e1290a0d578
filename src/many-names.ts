/**
 * A verb given several names (`vm start a b c`, `volume delete P/a P/b`): the
 * verb's own run function once per name, one after the other in the order
 * given (or --parallel N at once, where that is safe), each result printed
 * as it would be alone; then the most serious exit code among them. A
 * failure on one name does not stop the others; an interrupt (Ctrl-C,
 * SIGTERM, SIGHUP) lets the current one finish or undo itself as it would
 * alone and starts no other. With one name, nothing changes: the run
 * function runs as it is.
 */
import type { Context } from './context.js';
import { ExitCode, exitCodeOf, InterruptedError, KvmctlError, NotFoundError, UsageError } from './errors.js';
import { mapLimit } from './exec/parallel.js';
import { CapturingOutput, jsonOf, replay, type Printed } from './output/capture.js';
import { ERROR_CODES, jsonErrorOf } from './output/json-error.js';
import { textErrorLines } from './output/text-error.js';

/** What a verb of many names says about them. */
export interface ManyNames {
  /** The kind of object each name names, as error objects spell it (vm, pool, volume, network, bridge, snapshot). */
  kind: string;
  /** Why acting on several at once would be unsafe: --parallel above 1 is then refused (exit 2) with this reason. */
  serial?: string;
}

/**
 * Exit codes from the most serious down: what is left for the caller to do
 * decides. 8 leaves something half-done on the host that needs hands; 130
 * means later names were never tried; 7 undid a change whose cause is
 * unknown; 1 is a tool failing for a reason kvmctl could not classify; 6
 * asked for a state that was not reached in time (it may still come); 5
 * refused on purpose and changed nothing; 4 found a conflicting object; 2 is
 * a name or value rejected before anything was done to it; 3, the least, is
 * an object that is not there, which a teardown usually means as "already
 * gone" (and which --if-exists makes exit 0).
 */
export const SEVERITY: readonly ExitCode[] = [
  ExitCode.Partial,
  ExitCode.Interrupted,
  ExitCode.RolledBack,
  ExitCode.Failure,
  ExitCode.Timeout,
  ExitCode.Refused,
  ExitCode.Conflict,
  ExitCode.Usage,
  ExitCode.NotFound,
];

/** The rank of an exit code in SEVERITY (0 is the most serious); an unknown non-zero code ranks as a failure, 0 below all. */
function rank(code: number): number {
  if (code === ExitCode.Ok) return SEVERITY.length;
  const i = SEVERITY.indexOf(code);
  return i === -1 ? SEVERITY.indexOf(ExitCode.Failure) : i;
}

/** The most serious of the exit codes (0 when there are none, or all are 0). */
export function mostSerious(codes: readonly number[]): number {
  return codes.reduce((worst, c) => (rank(c) < rank(worst) ? c : worst), ExitCode.Ok);
}

/** Several names, some of which failed: the exit code is the most serious among them. */
export class ManyNamesError extends KvmctlError {
  override readonly exitCode: ExitCode;
  constructor(message: string, code: ExitCode, hint?: string) {
    super(message, hint);
    this.exitCode = code;
  }
}

interface Outcome {
  name: string;
  printed: Printed[];
  /** Set when it failed. */
  error?: unknown;
  /** False when kvmctl was interrupted before its turn. */
  started: boolean;
}

/**
 * Runs `one` for each name (see the module comment). `command` names the
 * verb in messages (`vm start`).
 */
export async function forEachName(ctx: Context, command: string, names: readonly string[], spec: ManyNames, one: (ctx: Context, name: string) => Promise<void>): Promise<void> {
  if (names.length === 1) return one(ctx, names[0]!);
  if (ctx.objectsAtOnce > 1 && spec.serial !== undefined) {
    throw new UsageError(`--parallel does not apply to ${command} with several names: ${spec.serial}`, 'leave --parallel out: the names are then done one after the other, in the order given');
  }
  const outcomes = new Array<Outcome | undefined>(names.length);
  let shown = 0;
  // Results are printed in the order given, each as soon as those before it are done.
  const showReady = () => {
    for (let o = outcomes[shown]; shown < names.length && o !== undefined; o = outcomes[++shown]) showText(ctx, o);
  };
  await mapLimit(names, ctx.objectsAtOnce, async (name, i) => {
    outcomes[i] = ctx.signal.aborted ? { name, printed: [], started: false } : await runOne(ctx, name, one);
    showReady();
  });
  const done = outcomes as Outcome[];
  if (ctx.out.json) ctx.out.printJson(done.map((o) => elementOf(o, command, spec.kind)));
  const failed = done.filter((o) => o.error !== undefined);
  const skipped = done.filter((o) => !o.started).map((o) => o.name);
  if (failed.length === 0 && skipped.length === 0) return;
  const interrupted = skipped.length > 0 ? notStarted(command, skipped, done.filter((o) => o.started && o.error === undefined).map((o) => o.name)) : undefined;
  const errors = [...failed.map((o) => o.error), ...(interrupted ? [interrupted] : [])];
  const code = mostSerious(errors.map(exitCodeOf));
  // -o json: stderr's last line is the most serious failure's own error object.
  if (ctx.out.json) throw errors.find((e) => exitCodeOf(e) === code);
  const summary = failed.map((o) => `${o.name}: ${ERROR_CODES[exitCodeOf(o.error)] ?? 'failure'}`).join(', ');
  const parts = [failed.length > 0 && `${failed.length} of ${names.length} failed (${summary})`, interrupted?.message].filter(Boolean);
  throw new ManyNamesError(`${command}: ${parts.join('; ')}`, code as ExitCode, failed.length > 0 ? 'the errors above say what failed for each name and what to do' : interrupted?.hint);
}

async function runOne(ctx: Context, name: string, one: (ctx: Context, name: string) => Promise<void>): Promise<Outcome> {
  const out = new CapturingOutput(ctx.io, ctx.out.options);
  try {
    await one({ ...ctx, out }, name);
    return { name, printed: out.printed, started: true };
  } catch (error) {
    return { name, printed: out.printed, error, started: true };
  }
}

/** Text mode: what the name's run printed, then its error and hint as they would read alone. */
function showText(ctx: Context, o: Outcome): void {
  if (ctx.out.json) return;
  for (const p of o.printed) replay(ctx.out, p);
  if (o.error !== undefined) ctx.io.stderr(textErrorLines(o.error, ctx.verbose));
}

/** -o json: the name's own result, or `{name, changed: false, error}` (docs/json.md). */
function elementOf(o: Outcome, command: string, kind: string): unknown {
  if (!o.started) return failedElement(o.name, new InterruptedError(`${command} ${o.name}: not started, kvmctl was interrupted before it`, 'run the same command again for the names not done', { object: { kind, name: o.name } }));
  if (o.error !== undefined) return failedElement(o.name, o.error);
  const values = o.printed.map(jsonOf).filter((v) => v !== undefined);
  return values.length === 1 ? values[0] : values;
}

function failedElement(name: string, error: unknown): unknown {
  return { name, changed: false, error: jsonErrorOf(error).error };
}

function notStarted(command: string, skipped: string[], done: string[]): InterruptedError {
  return new InterruptedError(
    `${command} was interrupted: ${done.length > 0 ? `done: ${done.join(', ')}; ` : ''}not started: ${skipped.join(', ')}`,
    `run the same command again for the names not done (${skipped.join(', ')})`,
  );
}

/** What --if-exists needs to know about the object a delete removes. */
export interface Absence {
  /** Its kind and name, as the not-found error of that object names it. */
  kind: string;
  name: string;
  /** The keys that name it in the result: `{changed: false, ...keys}`. */
  keys: Record<string, unknown>;
}

/**
 * --if-exists: the object being absent is a done delete (exit 0, `changed:
 * false`). Only the not-found error of that very object counts: any other
 * error (in use, refused, another object not found) stays what it is.
 */
export async function unlessAbsent(ctx: Context, absence: Absence, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof NotFoundError) || err.object?.kind !== absence.kind || err.object.name !== absence.name) throw err;
    ctx.out.done(`${err.message}: nothing to delete (--if-exists)`, { changed: false, ...absence.keys });
  }
}
