import { Command, Option } from 'commander';
import type { Context, Deps } from './context.js';
import { UsageError } from './errors.js';
import { DryRunRunner, VerboseRunner } from './exec/dry-run.js';
import type { Runner } from './exec/runner.js';
import { FaultRunner, parseFaultSpecs } from './exec/fault.js';
import { abandonedEntries, Journal } from './exec/journal.js';
import { withLock } from './exec/lock.js';
import { stateDir } from './exec/state-dir.js';
import { Transaction } from './exec/transaction.js';
import { Output, OUTPUT_FORMATS, type OutputFormat } from './output/output.js';

export const DEFAULT_URI = 'qemu:///system';

export interface GlobalOptions {
  connect?: string;
  output: string;
  dryRun?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/** What each verb file receives to register itself: a way to wrap its action with a Context. */
export interface App {
  deps: Deps;
  /** Wraps a verb's run function: builds the Context from the global options first. */
  action<A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void>;
}

export function createApp(deps: Deps): App {
  return {
    deps,
    action(fn) {
      return async (...args: unknown[]) => {
        const command = args[args.length - 1] as Command;
        const ctx = buildContext(command.optsWithGlobals() as GlobalOptions, deps);
        const unfinished = await abandonedEntries(ctx.stateDir);
        if (unfinished.length > 0) {
          ctx.out.warn(`${unfinished.length} earlier kvmctl operation(s) were killed midway and may have left objects behind: run kvmctl host doctor`);
        }
        await fn(ctx, ...(args.slice(0, -1) as never));
      };
    },
  };
}

// scheme:///path, scheme://host/path, scheme://user@host:port/path?query, test:///default
const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]*(\/[^\s]*)?$/i;

export function resolveUri(flag: string | undefined, env: Record<string, string | undefined>): string {
  const uri = flag ?? env.KVMCTL_URI ?? env.LIBVIRT_DEFAULT_URI ?? DEFAULT_URI;
  if (!URI_PATTERN.test(uri)) {
    const from = flag !== undefined ? '--connect' : env.KVMCTL_URI !== undefined ? 'KVMCTL_URI' : 'LIBVIRT_DEFAULT_URI';
    throw new UsageError(
      `malformed libvirt URI ${JSON.stringify(uri)} (from ${from})`,
      'use a URI such as qemu:///system, qemu+ssh://root@host/system or qemu+unix:///system?socket=/path/libvirt-sock',
    );
  }
  return uri;
}

export function buildContext(opts: GlobalOptions, deps: Deps): Context {
  if (!OUTPUT_FORMATS.includes(opts.output as OutputFormat)) {
    throw new UsageError(`unknown output format ${JSON.stringify(opts.output)}`, `use -o ${OUTPUT_FORMATS.join(' or -o ')}`);
  }
  const uri = resolveUri(opts.connect, deps.io.env);
  const out = new Output(deps.io, { format: opts.output as OutputFormat, quiet: Boolean(opts.quiet), color: opts.color !== false, dryRun: Boolean(opts.dryRun) });
  const stderr = (t: string) => deps.io.stderr(t);
  let runner: Runner = deps.runner;
  const faults = parseFaultSpecs(deps.io.env.KVMCTL_FAULT);
  if (faults.length > 0) runner = new FaultRunner(runner, faults, deps.signal, stderr);
  if (opts.dryRun) runner = new DryRunRunner(runner, stderr);
  if (opts.verbose) runner = new VerboseRunner(runner, stderr);
  const dir = stateDir(deps.io.env);
  const dryRun = Boolean(opts.dryRun);
  const journal = dryRun ? undefined : new Journal(dir, deps.argv);
  return {
    uri,
    runner,
    out,
    io: deps.io,
    fs: deps.fs,
    dryRun,
    verbose: Boolean(opts.verbose),
    signal: deps.signal,
    stateDir: dir,
    transaction: (label) => new Transaction(label, { signal: deps.signal, journal }),
    withLock: (key, fn) => (dryRun ? fn() : withLock(`${uri} ${key}`, { dir, signal: deps.signal }, fn)),
  };
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('-c, --connect <uri>', 'libvirt URI (default: $KVMCTL_URI, $LIBVIRT_DEFAULT_URI, qemu:///system)')
    .addOption(new Option('-o, --output <format>', 'output format: table or json (json: errors too, as one object on stderr)').default('table'))
    .option('--dry-run', 'print the commands that would change state, run only the reads')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print each command run, to stderr; show stack traces')
    .option('--no-color', 'never use colour (also: NO_COLOR)');
}

/** The "Examples:" block every command's --help ends with. */
export function examples(...lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  $ ${l}`).join('\n') + '\n';
}
