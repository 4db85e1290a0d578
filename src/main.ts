import { Command, CommanderError } from 'commander';
import { addGlobalOptions, createApp, examples } from './app.js';
import type { Deps } from './context.js';
import { EXIT_CODE_DOCS, ExitCode, exitCodeOf, KvmctlError, PartialError, PassedExitStatus } from './errors.js';
import { hostCommand } from './commands/host/index.js';
import { vmCommand } from './commands/vm/index.js';
import { poolCommand } from './commands/pool/index.js';
import { volumeCommand } from './commands/volume/index.js';
import { bridgeCommand } from './commands/bridge/index.js';
import { netCommand } from './commands/net/index.js';
import { eventsCommand } from './commands/events/index.js';

export function buildProgram(deps: Deps): Command {
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
  for (const noun of [hostCommand, vmCommand, poolCommand, volumeCommand, bridgeCommand, netCommand, eventsCommand]) {
    program.addCommand(noun(app));
  }
  configureRecursively(program, deps);
  return program;
}

function configureRecursively(cmd: Command, deps: Deps): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => deps.io.stdout(s),
    writeErr: (s) => deps.io.stderr(s),
    outputError: (s, write) => write(`kvmctl: ${s.replace(/^error: /, '')}`),
  });
  for (const sub of cmd.commands) configureRecursively(sub, deps);
}

/** Runs kvmctl with argv (as process.argv) and returns the exit code; never calls process.exit. */
export async function main(argv: string[], deps: Deps): Promise<number> {
  const program = buildProgram(deps);
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (err.exitCode === 0) return ExitCode.Ok;
      if (err.code === 'commander.executeSubCommandAsync' || err.code === 'commander.help') return err.exitCode;
      return ExitCode.Usage;
    }
    reportError(err, deps, verbose);
    return exitCodeOf(err);
  }
}

function reportError(err: unknown, deps: Deps, verbose: boolean): void {
  const write = (s: string) => deps.io.stderr(s);
  if (err instanceof PassedExitStatus) return;
  if (err instanceof KvmctlError) {
    write(`kvmctl: error: ${err.message}\n`);
    if (err instanceof PartialError && err.leftovers.length > 0) {
      write('left behind:\n' + err.leftovers.map((l) => `  - ${l}\n`).join(''));
    }
    if (err.hint) write(`hint: ${err.hint}\n`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    write(`kvmctl: internal error: ${message}\n`);
    if (!verbose) write('hint: run again with -v for details, and report it if it persists\n');
  }
  if (verbose && err instanceof Error && err.stack) write(err.stack + '\n');
}
