/**
 * Test harness for `kvmctl net` and `kvmctl bridge`: runs the CLI in memory
 * (main() with a FakeRunner) and stubs kvmctl's reads with real output recorded
 * from the lab (test/fixtures/recorded/net, see its README).
 */
import { readFileSync } from 'node:fs';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { formatCommand, type Command } from '../../src/exec/command.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { newStateDir, URI } from '../support/harness.js';

// The shared harness; this file keeps what only the net and bridge tests use, until they move to it.
export { batchArgv, newStateDir, stubBatch, URI } from '../support/harness.js';
import { stubBatch } from '../support/harness.js';

export const rec = (file: string): string => readFileSync(new URL(`../fixtures/recorded/net/${file}`, import.meta.url), 'utf8');

/** The lab's networks as recorded: net-list, then each dumpxml (+ leases of the active ones). */
export const LAB_NETWORKS = ['default', 'fxn-br', 'fxn-iso', 'fxn-nat', 'fxn-route'] as const;
const ACTIVE = new Set(['default', 'fxn-br', 'fxn-nat', 'fxn-route']);

export function stubLoadNetworks(runner: FakeRunner, opts: { leases: boolean }): FakeRunner {
  stubBatch(runner, [['net-list', '--all']], [rec('virsh-net-list-all.txt')]);
  const commands: string[][] = [];
  const outputs: string[] = [];
  for (const n of LAB_NETWORKS) {
    commands.push(['net-dumpxml', '--network', n]);
    outputs.push(rec(`virsh-net-dumpxml-${n}.xml`));
    if (opts.leases && ACTIVE.has(n)) {
      commands.push(['net-dhcp-leases', '--network', n]);
      outputs.push(rec(`virsh-net-dhcp-leases-${n}.txt`));
    }
  }
  return stubBatch(runner, commands, outputs);
}

/** One network: net-info, dumpxml (+ leases), in one batch. */
export function stubLoadNetwork(runner: FakeRunner, name: string, opts: { leases: boolean; info?: string; xml?: string }): FakeRunner {
  const commands = [['net-info', '--network', name], ['net-dumpxml', '--network', name], ...(opts.leases ? [['net-dhcp-leases', '--network', name]] : [])];
  const outputs = [opts.info ?? rec(`virsh-net-info-${name}.txt`), opts.xml ?? rec(`virsh-net-dumpxml-${name}.xml`), ...(opts.leases ? [rec(`virsh-net-dhcp-leases-${name}.txt`)] : [])];
  return stubBatch(runner, commands, outputs);
}

/** loadDomains over the recorded lab: fxn-vm1 running on fxn-nat, fxn-vm2 shut off with a reservation there. */
export function stubLoadDomains(runner: FakeRunner): FakeRunner {
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], [rec('virsh-domstats-raw-state.txt'), rec('virsh-list-all-autostart-name.txt')]);
  // loadDomains asks for the XML in the order domstats lists the domains.
  const names = [...rec('virsh-domstats-raw-state.txt').matchAll(/^Domain: '(.*)'$/gm)].map((m) => m[1] as string);
  return stubBatch(runner, names.map((n) => ['dumpxml', '--domain', n]), names.map((n) => rec(`virsh-dumpxml-${n}.xml`)));
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
  runner: FakeRunner;
  /** Every command run, as a person would type it. */
  argvs: string[];
  /** Only the state-changing ones. */
  changes: string[];
  stateDir: string;
}

export interface CliOptions {
  /** Files kvmctl reads directly, e.g. /proc/sys/net/ipv4/ip_forward. */
  files?: Record<string, string>;
  stateDir?: string;
  env?: Record<string, string>;
}

/** Runs `kvmctl -c URI ARGS` in memory. */
export async function cli(args: string[], runner: FakeRunner, opts: CliOptions = {}): Promise<CliResult> {
  const stateDir = opts.stateDir ?? newStateDir();
  const io = memoryIO({ KVMCTL_STATE_DIR: stateDir, ...opts.env });
  const code = await main(['node', 'kvmctl', '-c', URI, ...args], {
    io,
    runner,
    fs: memoryFs(opts.files ?? {}),
    version: 'test',
    signal: new AbortController().signal,
    argv: args,
  });
  const changes = runner.calls.filter((c: Command) => c.mutates).map(formatCommand);
  return { code, out: io.out, err: io.err, runner, argvs: runner.argvs(), changes, stateDir };
}
