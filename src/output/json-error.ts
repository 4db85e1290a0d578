import { ExitCode, KvmctlError, PartialError, type ErrorSubject } from '../errors.js';

/** The stable, machine-readable name of each exit code, as the JSON error object spells it. */
export const ERROR_CODES: Readonly<Record<ExitCode, string>> = {
  [ExitCode.Ok]: 'ok',
  [ExitCode.Failure]: 'failure',
  [ExitCode.Usage]: 'usage',
  [ExitCode.NotFound]: 'not-found',
  [ExitCode.Conflict]: 'conflict',
  [ExitCode.Refused]: 'refused',
  [ExitCode.Timeout]: 'timeout',
  [ExitCode.RolledBack]: 'rolled-back',
  [ExitCode.Partial]: 'partial',
  [ExitCode.PartialResult]: 'partial-result',
  [ExitCode.Interrupted]: 'interrupted',
};

/** What `-o json` writes to stderr when a command fails (schemas/error.schema.json). */
export interface JsonError {
  error: {
    /** ERROR_CODES[exit], or "internal" for a defect in kvmctl itself. */
    code: string;
    exit: number;
    message: string;
    hint: string | null;
    object: ErrorSubject | null;
    /** Only for code "partial": what could not be undone. */
    leftovers?: string[];
  };
}

export function jsonErrorOf(err: unknown): JsonError {
  if (err instanceof KvmctlError) {
    const body: JsonError['error'] = {
      code: ERROR_CODES[err.exitCode],
      exit: err.exitCode,
      message: err.message,
      hint: err.hint ?? null,
      object: err.object ?? null,
    };
    if (err instanceof PartialError) body.leftovers = err.leftovers;
    return { error: body };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    error: {
      code: 'internal',
      exit: ExitCode.Failure,
      message: `internal error: ${message}`,
      hint: 'run again with -v for details, and report it if it persists',
      object: null,
    },
  };
}

/** One line, so a script can read the error as the last line of stderr (`tail -n 1 | jq`). */
export function formatJsonError(err: unknown): string {
  return JSON.stringify(jsonErrorOf(err)) + '\n';
}

/**
 * Whether argv asks for JSON (-o json, -ojson, -qo json, --output json, --output=json; the last one wins),
 * read before commander parses, so that even a usage error commander rejects is reported as JSON.
 */
export function wantsJson(argv: readonly string[]): boolean {
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    // -o may end a cluster of the global boolean short flags (-qo json, -vojson), as commander reads them.
    const short = /^-[qv]*o(.*)$/s.exec(a);
    if (short) format = short[1] !== '' ? short[1] : argv[++i];
    else if (a === '--output') format = argv[++i];
    else if (a.startsWith('--output=')) format = a.slice('--output='.length);
  }
  return format === 'json';
}
