import { Command, CommanderError } from 'commander';
import { addGlobalOptions, createApp, examples } from './app.js';
import type { Deps } from './context.js';
import { EXIT_CODE_DOCS, ExitCode, exitCodeOf, UsageError } from './errors.js';
import { hostCommand } from './commands/host/index.js';
import { vmCommand } from './commands/vm/index.js';
import { poolCommand } from './commands/pool/index.js';
import { volumeCommand } from './commands/volume/index.js';
import { imageCommand } from './commands/image/index.js';
import { bridgeCommand } from './commands/bridge/index.js';
import { netCommand } from './commands/net/index.js';
import { completionCommand } from './commands/completion/index.js';
import { complete, COMPLETE_COMMAND } from './commands/completion/engine.js';
import type { memoryIO } from './output/io.js';
import { renderManPage } from './output/man-page.js';
import { formatJsonError, wantsJson } from './output/json-error.js';
import { textErrorLines } from './output/text-error.js';
import { eventsCommand } from './commands/events/index.js';

/** Where commander's own error output goes: text to stderr, or (under -o json) held back for one JSON error object. */
interface CommanderSink {
  json: boolean;
  /** The command whose parsing failed, for the error's hint. */
  failed?: Command;
}

export function buildProgram(deps: Deps, sink: CommanderSink = { json: false }): Command {
  const app = createApp(deps);
  const program = addGlobalOptions(new Command('kvmctl'))
    .description('Manage a KVM host: VMs, storage pools and volumes, bridges, NAT and libvirt networks.')
    .version(deps.version, '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      examples('kvmctl host', 'kvmctl vm list -o json', 'kvmctl -c qemu+ssh://root@kvm1/system vm start web1') +
        '\nExit codes:\n' +
        EXIT_CODE_DOCS.map(([code, text]) => `  ${String(code).padEnd(4)}${text}`).join('\n') +
        '\n',
    );
  for (const noun of [hostCommand, vmCommand, poolCommand, volumeCommand, imageCommand, bridgeCommand, netCommand, eventsCommand, completionCommand]) {
    program.addCommand(noun(app));
  }
  configureRecursively(program, deps, sink);
  return program;
}

/** kvmctl(1) in roff from the command tree; deps.io must be a memoryIO (each command's help is captured through it). */
export function manPage(deps: Deps & { io: ReturnType<typeof memoryIO> }): string {
  const program = buildProgram(deps);
  return renderManPage(program, deps.version, (cmd) => {
    deps.io.out = '';
    cmd.outputHelp();
    return deps.io.out.slice(cmd.helpInformation().length);
  });
}

function configureRecursively(cmd: Command, deps: Deps, sink: CommanderSink): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => deps.io.stdout(s),
    writeErr: (s) => {
      sink.failed ??= cmd;
      if (!sink.json) deps.io.stderr(s);
    },
    outputError: (s, write) => write(`kvmctl: ${s.replace(/^error: /, '')}`),
  });
  for (const sub of cmd.commands) configureRecursively(sub, deps, sink);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A usage error commander raised, as kvmctl's own error (for the JSON error object). */
function commanderUsageError(err: CommanderError, failed: Command | undefined): UsageError {
  const path = failed ? commandPath(failed) : 'kvmctl';
  if (err.code === 'commander.help') {
    const verbs = failed?.commands.map((c) => c.name()) ?? [];
    return new UsageError(`${path}: missing command${verbs.length > 0 ? ` (one of: ${verbs.join(', ')})` : ''}`, `for usage, run: ${path} --help`);
  }
  return new UsageError(`${path}: ${err.message.replace(/^error: /, '')}`, `for usage, run: ${path} --help`);
}

/** Runs kvmctl with argv (as process.argv) and returns the exit code; never calls process.exit. */
export async function main(argv: string[], deps: Deps): Promise<number> {
  const sink: CommanderSink = { json: wantsJson(argv.slice(2)) };
  const program = buildProgram(deps, sink);
  // The completion scripts' question: the words go to the tree's walker, not to commander.
  if (argv[2] === COMPLETE_COMMAND) {
    await complete(program, argv.slice(3), deps);
    return ExitCode.Ok;
  }
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (err.exitCode === 0) return ExitCode.Ok;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      // Everything else (unknown command or option, missing argument or verb) is bad usage.
      if (sink.json) deps.io.stderr(formatJsonError(commanderUsageError(err, sink.failed)));
      return ExitCode.Usage;
    }
    if (sink.json) {
      // The stack (with -v) first: the error object stays the last line of stderr.
      if (verbose && err instanceof Error && err.stack) deps.io.stderr(err.stack + '\n');
      deps.io.stderr(formatJsonError(err));
    } else reportError(err, deps, verbose);
    return exitCodeOf(err);
  }
}

function reportError(err: unknown, deps: Deps, verbose: boolean): void {
  const text = textErrorLines(err, verbose);
  if (text !== '') deps.io.stderr(text);
}
