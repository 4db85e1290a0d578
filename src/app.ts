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
import { Virsh } from './libvirt/virsh-client.js';
import { HostRunner, hostFs } from './exec/host-runner.js';
import { hostAccessFor } from './net/host-access.js';
import { Ip } from './net/ip.js';
import { Iptables } from './net/iptables.js';
import { Sysctl } from './net/sysctl.js';
import { fanOut, type FleetRead } from './fan-out.js';
import { DEFAULT_HOST_TIMEOUT_S, DEFAULT_PARALLEL, parseHostTimeout, parseParallel } from './inventory/fan-out-options.js';

/** The read commands -H runs on many hosts. */
export const FAN_OUT_COMMANDS = 'vm list, vm info, host, host check, pool list, volume list, net list, net leases';
import { Output, OUTPUT_FORMATS, type OutputFormat } from './output/output.js';
import type { Column } from './output/table.js';

import { DEFAULT_URI, kvmctlCommand } from './exec/command.js';
import { resolveUri } from './libvirt/uri.js';

export { DEFAULT_URI };
export { resolveUri };

export interface GlobalOptions {
  connect?: string;
  output: string;
  dryRun?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  wide?: boolean;
  host?: string[];
  parallel?: string;
  hostTimeout?: string;
}

export interface ActionOptions {
  /** A read command that -H may run on many hosts; a FleetRead when the hosts' results are put together before printing. */
  fanOut?: boolean | FleetRead<any>;
  /** The columns of the list it prints with these arguments, if any (-H: the table's shape when every host fails). */
  listColumns?: (ctx: Context, args: unknown[]) => Column<any>[] | undefined;
  /** A creating command: -H names the one host it runs on (or auto: it is chosen); returns that host's URI. */
  place?: (ctx: Context, selectors: string[], args: unknown[]) => Promise<string>;
}

/** What each verb file receives to register itself: a way to wrap its action with a Context. */
export interface App {
  deps: Deps;
  /**
   * Wraps a verb's run function (see verb.ts, which types `parsed` from the
   * verb's tables): builds the Context from the global options first; `parsed`
   * is what commander passes an action before the Command itself.
   */
  run(fn: (ctx: Context, parsed: unknown[]) => Promise<void>, options?: ActionOptions): (...args: unknown[]) => Promise<void>;
  /** For verbs not yet declared with verb(): the parameters are as loose as commander's. */
  action(fn: (ctx: Context, ...args: any[]) => Promise<void>, options?: ActionOptions): (...args: unknown[]) => Promise<void>;
}

export function createApp(deps: Deps): App {
  const run: App['run'] = (fn, options = {}) => {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const opts = command.optsWithGlobals() as GlobalOptions;
      const selectors = opts.host ?? [];
      if (selectors.length > 0 && !options.fanOut && !options.place) {
        throw new UsageError(`-H does not apply to kvmctl ${command.parent?.name() ?? ''} ${command.name()}`.replace(/\s+/g, ' '), `-H works with: ${FAN_OUT_COMMANDS} (and vm create: one host, or auto); for one host use -c URI`);
      }
      if (selectors.length > 0 && opts.connect !== undefined) {
        throw new UsageError('-H and -c both name hosts', 'use -H NAME (from the inventory) or -c URI, not both');
      }
      const ctx = buildContext(selectors.length > 0 ? { ...opts, connect: DEFAULT_URI } : opts, deps);
      const unfinished = await abandonedEntries(ctx.stateDir);
      if (unfinished.length > 0) {
        ctx.out.warn(`${unfinished.length} earlier kvmctl operation(s) were killed midway and may have left objects behind: run ${kvmctlCommand(ctx.uri, 'host', 'doctor')}`);
      }
      const parsed = args.slice(0, -1);
      if (selectors.length === 0) return fn(ctx, parsed);
      if (options.place) return fn(buildContext({ ...opts, connect: await options.place(ctx, selectors, parsed), host: undefined }, deps), parsed);
      await fanOut(
        selectors,
        ctx,
        deps,
        (uri, hostDeps, capture) => hostContext(ctx, opts, uri, hostDeps, capture(ctx.out)),
        typeof options.fanOut === 'object' ? options.fanOut : (hctx) => fn(hctx, parsed),
        options.listColumns?.(ctx, parsed),
      );
    };
  };
  return { deps, run, action: (fn, options) => run((ctx, parsed) => fn(ctx, ...parsed), options) };
}


export function buildContext(opts: GlobalOptions, deps: Deps): Context {
  if (!OUTPUT_FORMATS.includes(opts.output as OutputFormat)) {
    throw new UsageError(`unknown output format ${JSON.stringify(opts.output)}`, `use -o ${OUTPUT_FORMATS.join(' or -o ')}`);
  }
  const uri = resolveUri(opts.connect, deps.io.env);
  const out = new Output(deps.io, { format: opts.output as OutputFormat, quiet: Boolean(opts.quiet), color: opts.color !== false, dryRun: Boolean(opts.dryRun), wide: Boolean(opts.wide) });
  const dir = stateDir(deps.io.env);
  const dryRun = Boolean(opts.dryRun);
  const journal = dryRun ? undefined : new Journal(dir, deps.argv);
  return {
    ...connection(uri, opts, deps, out, dir),
    parallel: parseParallel(opts.parallel),
    objectsAtOnce: opts.parallel === undefined ? 1 : parseParallel(opts.parallel),
    hostTimeoutMs: parseHostTimeout(opts.hostTimeout),
    out,
    io: deps.io,
    dryRun,
    verbose: Boolean(opts.verbose),
    signal: deps.signal,
    stateDir: dir,
    transaction: (label) => new Transaction(label, { signal: deps.signal, journal }),
  };
}

/** A host's Context under -H: the options as the base parsed them once, that host's URI, runner, clients and output. */
export function hostContext(base: Context, opts: GlobalOptions, uri: string, deps: Deps, out: Output): Context {
  return { ...base, ...connection(resolveUri(uri, deps.io.env), opts, deps, out, base.stateDir), out, io: deps.io };
}

/** What a URI decides: the runner (faults, dry-run, the host's ssh transport, -v), the clients on it, its files, its locks. */
function connection(uri: string, opts: GlobalOptions, deps: Deps, out: Output, dir: string): Pick<Context, 'uri' | 'hostAccess' | 'runner' | 'virsh' | 'ip' | 'iptables' | 'sysctl' | 'fs' | 'withLock'> {
  const stderr = (t: string) => deps.io.stderr(t);
  let runner: Runner = deps.runner;
  const faults = parseFaultSpecs(deps.io.env.KVMCTL_FAULT);
  if (faults.length > 0) runner = new FaultRunner(runner, faults, deps.signal, stderr);
  if (opts.dryRun) runner = new DryRunRunner(runner, stderr);
  const hostAccess = hostAccessFor(uri);
  if (hostAccess.kind !== 'local') runner = new HostRunner(runner, hostAccess, uri);
  if (opts.verbose) runner = new VerboseRunner(runner, stderr);
  const fs = hostAccess.kind === 'local' ? deps.fs : hostFs(deps.fs, runner, hostAccess);
  return {
    uri,
    hostAccess,
    runner,
    virsh: new Virsh(runner, uri),
    ip: new Ip(runner),
    iptables: new Iptables(runner),
    sysctl: new Sysctl(runner, fs),
    fs,
    withLock: (key, fn) => (opts.dryRun ? fn() : withLock(`${uri} ${key}`, { dir, signal: deps.signal, argv: deps.argv, onWait: (m) => out.info(m) }, fn)),
  };
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('-c, --connect <uri>', 'libvirt URI (default: $KVMCTL_URI, $LIBVIRT_DEFAULT_URI, qemu:///system)')
    .addOption(new Option('-o, --output <format>', 'output format: table, json (errors too, as one object on stderr) or name (the IDs of the objects listed or changed, one a line)').default('table'))
    .option('--wide', 'tables show every column (also those hidden by default), each cell in full; on a terminal they are otherwise shortened to fit')
    .option('--dry-run', 'print the commands that would change state, run only the reads')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print each command run, to stderr; show stack traces')
    .option('--no-color', 'never use colour (also: NO_COLOR)')
    .option('-H, --host <name>', 'run on hosts of the inventory: NAME, @GROUP or all (repeatable; read commands); vm create: the one host to create on, or auto (placement)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--parallel <n>', `with -H and host list: hosts asked at once (default ${DEFAULT_PARALLEL}); with several names (vm start a b c): objects acted on at once (default 1: one after the other, in order)`)
    .option('--host-timeout <seconds>', `with -H and host list: stop a host's programs after this long; vm migrate: the pre-check's limit (default ${DEFAULT_HOST_TIMEOUT_S})`);
}

/** The "Examples:" block every command's --help ends with. */
export function examples(...lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  $ ${l}`).join('\n') + '\n';
}
