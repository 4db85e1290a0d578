/**
 * The QEMU guest agent, reached through libvirt (`virsh qemu-agent-command`):
 * JSON commands of the agent's own protocol (https://qemu.readthedocs.io/en/latest/interop/qemu-ga-ref.html).
 * The request is built with JSON.stringify and travels as one argv element
 * (`--cmd JSON`), so no name, path or argument can change its structure.
 */
import { formatCommand, kvmctlCommand, type Command, type CommandResult } from '../exec/command.js';
import { RefusedError, type KvmctlError } from '../errors.js';
import { classifyVirshError, libvirtMessage } from './virsh.js';
import { asCommand, read, write, type VirshCall } from './virsh-client.js';

/** How long libvirt waits for one reply of the agent (seconds); guest-exec itself returns at once. */
export const AGENT_REPLY_TIMEOUT_S = 10;

/** The virtio-serial channel the agent listens on; vm create always adds it. */
export const AGENT_CHANNEL = 'org.qemu.guest_agent.0';

/**
 * The <channel> element that channel is, as a hint shows it for `virsh edit`:
 * written out once, in libvirt's documented single-quoted form, and never
 * built by pasting values into markup (domain-xml.ts builds the real one with
 * the codec; a unit test checks the two agree).
 */
export const AGENT_CHANNEL_XML = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";

function agentCall(name: string, request: object, mutates: boolean, replyTimeoutS = AGENT_REPLY_TIMEOUT_S): VirshCall {
  const words = ['qemu-agent-command', '--domain', name, '--timeout', String(replyTimeoutS), '--cmd', JSON.stringify(request)];
  const vm = { kind: 'vm' as const, name };
  // The virsh call outlives the agent's timeout only if libvirtd itself hangs.
  return { ...(mutates ? write(words, vm) : read(words, vm)), timeoutMs: (replyTimeoutS + 20) * 1000 };
}

/** Agent requests for the virsh client (ctx.virsh.attempt(agentCalls.ping(name))). */
export const agentCalls = {
  ping: (name: string, replyTimeoutS?: number) => agentCall(name, { execute: 'guest-ping' }, false, replyTimeoutS),
  /** Starts program (looked up on the guest's PATH) with args; stdout and stderr are kept by the agent. */
  exec: (name: string, program: string, args: string[]) => agentCall(name, { execute: 'guest-exec', arguments: { path: program, arg: args, 'capture-output': true } }, true),
  execStatus: (name: string, pid: number) => agentCall(name, { execute: 'guest-exec-status', arguments: { pid } }, false),
};

/** What guest-exec-status reports once the process has ended. */
export interface GuestExecStatus {
  exited: boolean;
  exitCode?: number;
  /** Set when a signal ended it. */
  signal?: number;
  stdout: Buffer;
  stderr: Buffer;
  /** The agent keeps at most 16 MiB of each stream (qemu-ga's GUEST_EXEC_MAX_OUTPUT). */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

function replyOf(stdout: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(stdout);
  const ret = (parsed as { return?: unknown } | null)?.return;
  if (ret === null || typeof ret !== 'object') throw new Error(`the guest agent's reply has no "return" object: ${stdout.trim().slice(0, 200)}`);
  return ret as Record<string, unknown>;
}

export function parseExecReply(stdout: string): number {
  const pid = replyOf(stdout).pid;
  if (typeof pid !== 'number') throw new Error(`guest-exec returned no pid: ${stdout.trim().slice(0, 200)}`);
  return pid;
}

export function parseExecStatus(stdout: string): GuestExecStatus {
  const r = replyOf(stdout);
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0));
  return {
    exited: r.exited === true,
    exitCode: typeof r.exitcode === 'number' ? r.exitcode : undefined,
    signal: typeof r.signal === 'number' ? r.signal : undefined,
    stdout: bytes(r['out-data']),
    stderr: bytes(r['err-data']),
    stdoutTruncated: r['out-truncated'] === true,
    stderrTruncated: r['err-truncated'] === true,
  };
}

/** libvirt's words for "no channel" and for "a channel, but nothing answers on it". */
const NOT_CONFIGURED = /guest agent is not configured/i;
const NOT_ANSWERING = /guest agent is not (connected|responding)|agent not available|agent is not running|Guest agent disappeared|timeout/i;

export type AgentProblem = 'not-configured' | 'not-answering';

export function agentProblemOf(stderr: string): AgentProblem | undefined {
  if (NOT_CONFIGURED.test(stderr)) return 'not-configured';
  if (NOT_ANSWERING.test(stderr)) return 'not-answering';
  return undefined;
}

/** A failed agent call as an error that says what to do: add the channel, or install and start the agent in the guest. */
export function agentError(cmd: Command, result: CommandResult, name: string, uri: string): KvmctlError {
  const problem = agentProblemOf(result.stderr);
  const vm = `VM ${JSON.stringify(name)}`;
  if (problem === 'not-configured') {
    return new RefusedError(
      `${vm} has no guest agent channel (${libvirtMessage(result.stderr)})`,
      `add ${AGENT_CHANNEL_XML} under <devices> (${formatCommand(asCommand(uri, read(['edit', '--domain', name])))}), restart the VM, and install qemu-guest-agent in the guest`,
    );
  }
  if (problem === 'not-answering') {
    return new RefusedError(
      `the guest agent of ${vm} is not answering (${libvirtMessage(result.stderr)})`,
      `wait until the guest has booted (${kvmctlCommand(uri, 'vm', 'wait', name, '--for', 'agent')}), or install and start it in the guest: apt-get install qemu-guest-agent / dnf install qemu-guest-agent; systemctl start qemu-guest-agent`,
    );
  }
  return classifyVirshError(cmd, result, { kind: 'vm', name }, uri);
}
