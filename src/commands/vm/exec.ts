/**
 * `vm exec NAME [--timeout S] -- COMMAND [ARG…]`: runs a program in the guest
 * through the QEMU guest agent (guest-exec, then guest-exec-status until it
 * has ended), writes its stdout and stderr byte for byte, and exits with its
 * exit status. No shell on either side: the program and each argument reach
 * the guest as given; for a shell, run one: `-- sh -c 'echo $HOME'`.
 */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { InterruptedError, PassedExitStatus, RefusedError, TimeoutError, UsageError } from '../../errors.js';
import { agentCalls, agentError, agentProblemOf, parseExecReply, parseExecStatus, type GuestExecStatus } from '../../libvirt/guest-agent.js';
import type { VirshCall } from '../../libvirt/virsh-client.js';
import { arg, value, type OptionsOf } from '../../verb.js';
import { countOption } from '../../validate/count.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { sleep } from './wait.js';

const FIRST_INTERVAL_MS = 50;
const MAX_INTERVAL_MS = 1000;

/** One agent call; an agent that is missing or silent is exit 5 with what to do. */
async function agentCall(ctx: Context, name: string, call: VirshCall): Promise<string> {
  const result = await ctx.virsh.attempt(call);
  if (result.exitCode !== 0) throw agentError(ctx.virsh.command(call), result, name, ctx.uri);
  return result.stdout;
}

/** Fails at once (exit 5) on a VM that is not running: its agent cannot answer. */
export async function requireRunning(ctx: Context, name: string, what: string): Promise<void> {
  const { state, reason } = await readVmState(ctx, name);
  if (state === 'running') return;
  throw new RefusedError(
    `VM ${JSON.stringify(name)} is ${state}${reason ? ` (${reason})` : ''}: ${what} needs it running`,
    state === 'paused' ? `resume it: ${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}` : `start it first: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`,
  );
}

/**
 * Asks the agent for a sign of life: undefined when it answers, else why not.
 * A VM without the agent's channel throws: no wait makes one appear.
 */
export async function pingAgent(ctx: Context, name: string): Promise<string | undefined> {
  const call = agentCalls.ping(name, 2);
  const result = await ctx.virsh.attempt(call);
  if (result.exitCode === 0) return undefined;
  const err = agentError(ctx.virsh.command(call), result, name, ctx.uri);
  if (agentProblemOf(result.stderr) !== 'not-answering') throw err;
  return err.message;
}

/** Runs argv in the guest until it ends; undefined with --dry-run (the guest-exec call was printed, not made). */
export async function execInGuest(ctx: Context, name: string, argv: string[], timeoutSeconds: number): Promise<{ pid: number; status: GuestExecStatus } | undefined> {
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new UsageError('vm exec needs a command after --', `e.g. ${kvmctlCommand(ctx.uri, 'vm', 'exec', name, '--', 'uname', '-a')}`);
  await requireRunning(ctx, name, 'vm exec');
  const reply = await agentCall(ctx, name, agentCalls.exec(name, program, args));
  if (ctx.dryRun) return undefined;
  const pid = parseExecReply(reply);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const still = `it still runs in the guest as pid ${pid}`;
  let interval = FIRST_INTERVAL_MS;
  try {
    for (;;) {
      const status = parseExecStatus(await agentCall(ctx, name, agentCalls.execStatus(name, pid)));
      if (status.exited) return { pid, status };
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(`vm exec ${name}: ${program} did not end within ${timeoutSeconds} s; ${still}`, `end it with: ${kvmctlCommand(ctx.uri, 'vm', 'exec', name, '--', 'kill', String(pid))} (or allow longer with --timeout)`);
      }
      await sleep(Math.min(interval, left), ctx.signal);
      interval = Math.min(MAX_INTERVAL_MS, interval * 2);
    }
  } catch (err) {
    // Ctrl-C while waiting or while asking: the command goes on in the guest.
    if (err instanceof InterruptedError) throw new InterruptedError(`vm exec ${name}: interrupted; ${still}`, `end it with: ${kvmctlCommand(ctx.uri, 'vm', 'exec', name, '--', 'kill', String(pid))}`);
    throw err;
  }
}

/** 128 + signal, as a shell reports a process a signal ended. */
export function exitStatusOf(status: GuestExecStatus): number {
  if (status.signal !== undefined) return 128 + status.signal;
  return status.exitCode ?? 0;
}

const options = { timeout: value('--timeout <seconds>', 'give up waiting for it after this long (default 300; exit 6, it keeps running in the guest)') };
export type ExecOptions = OptionsOf<typeof options>;

export async function runVmExec(ctx: Context, name: string, argv: string[], opts: ExecOptions): Promise<void> {
  checkVmName(name);
  const timeoutSeconds = countOption(opts.timeout, '--timeout', 1, 86_400, 300);
  const ran = await execInGuest(ctx, name, argv, timeoutSeconds);
  if (ran === undefined) return;
  const { pid, status } = ran;
  const code = exitStatusOf(status);
  if (ctx.out.json) {
    ctx.out.printJson({
      name,
      command: argv,
      pid,
      exitCode: status.exitCode ?? null,
      signal: status.signal ?? null,
      stdout: status.stdout.toString('utf8'),
      stderr: status.stderr.toString('utf8'),
      stdoutTruncated: status.stdoutTruncated,
      stderrTruncated: status.stderrTruncated,
    });
  } else {
    ctx.io.writeBytes('stdout', status.stdout);
    ctx.io.writeBytes('stderr', status.stderr);
  }
  for (const [stream, cut] of [['stdout', status.stdoutTruncated], ['stderr', status.stderrTruncated]] as const) {
    if (cut) ctx.out.warn(`the guest agent kept only the first part of the command's ${stream} (it keeps at most 16 MiB)`);
  }
  if (code !== 0) throw new PassedExitStatus(code);
}

export const execCommand = vmVerb('exec', 'run a command in the guest through the QEMU guest agent: its stdout and stderr as they were, its exit status', runVmExec, {
  args: [arg('<command...>', "the program (looked up on the guest's PATH) and its arguments, after --; no shell")],
  options,
  examples: ['kvmctl vm exec web1 -- uname -a', "kvmctl vm exec web1 -- sh -c 'df -h / && free -m'", 'kvmctl vm exec web1 --timeout 600 -- apt-get -y upgrade', 'kvmctl -o json vm exec web1 -- hostname'],
  notes:
    '\nNeeds qemu-guest-agent running in the guest and its channel in the domain (vm create adds it); exit 5 says which is missing.\n' +
    "Exit status: the command's own; kvmctl's errors (5: no agent, 6: timeout) come with a kvmctl: error: line on stderr.\n",
});
