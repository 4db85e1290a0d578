/**
 * Keeps the host's own network tools (ip, bridge, iptables, sysctl) on the host the
 * URI names. On this machine they run as given; for a qemu+ssh URI, reads run on
 * that host over ssh; changes to another host's bridges and firewall are refused,
 * as is everything on a host that can only be reached through libvirt's protocol.
 * Without this, `kvmctl -c qemu+ssh://kvm1/system bridge list` would list this
 * machine's bridges beside kvm1's URI.
 */
import type { Command, CommandResult } from './command.js';
import { formatCommand } from './command.js';
import type { Runner } from './runner.js';
import type { Conversation, Opening } from './conversation.js';
import type { LocalFs } from '../local-fs.js';
import { RefusedError } from '../errors.js';
import { overSsh, sshTargetName, type HostAccess } from '../net/host-access.js';
import { sysctlFileReadCommand } from '../net/sysctl.js';

/** Programs whose subject is the host's network namespace, not libvirt or a file kvmctl was given (ss: its listening sockets). */
export const HOST_NETWORK_PROGRAMS = new Set(['ip', 'bridge', 'iptables', 'iptables-save', 'sysctl', 'ss']);

/** Files read directly that describe the host's network namespace. */
const HOST_NETWORK_FILES = /^\/proc\/sys\/net\//;

export class HostRunner implements Runner {
  /** Conversations are virsh's (it reaches the host itself): the host's own network tools never hold one. */
  readonly converse?: (cmd: Command, opening?: Opening) => Conversation;

  constructor(
    private readonly inner: Runner,
    private readonly access: Exclude<HostAccess, { kind: 'local' }>,
    private readonly uri: string,
  ) {
    const converse = inner.converse?.bind(inner);
    if (converse) {
      this.converse = (cmd, opening) => {
        if (HOST_NETWORK_PROGRAMS.has(cmd.program)) throw new RefusedError(`${formatCommand(cmd)}: not run in rounds on ${this.uri}`, 'run it as one command');
        return converse(cmd, opening);
      };
    }
  }

  async run(cmd: Command): Promise<CommandResult> {
    if (!HOST_NETWORK_PROGRAMS.has(cmd.program)) return this.inner.run(cmd);
    if (this.access.kind === 'none' || cmd.mutates) throw hostNetworkChangeRefused(this.access, this.uri, formatCommand(cmd));
    return this.inner.run(overSsh(this.access.target, cmd));
  }
}

/**
 * Why `subject` (a command, or a verb that would change the host's network) is not
 * run on the host a remote URI names: the one refusal of HostRunner, also thrown
 * by the verbs that change only the host's firewall before they read anything.
 */
export function hostNetworkChangeRefused(access: Exclude<HostAccess, { kind: 'local' }>, uri: string, subject: string, command?: string): RefusedError {
  if (access.kind === 'none') {
    return new RefusedError(`${subject}: not run, because ${uri} names another host and ${access.reason}`, 'use a qemu+ssh:// URI for that host, or run kvmctl on it');
  }
  const host = sshTargetName(access.target);
  return new RefusedError(
    `${subject}: kvmctl does not change the bridges, addresses or firewall of another host (${host}); nothing was changed`,
    `run the command on that host itself: ssh ${host} ${command ?? 'kvmctl ...'}`,
  );
}

/** Throws before a verb that changes only this host's firewall reads anything, when the URI names another host. */
export function refuseRemoteFirewallChange(ctx: { uri: string; hostAccess: HostAccess }, subject: string, command: string): void {
  if (ctx.hostAccess.kind !== 'local') throw hostNetworkChangeRefused(ctx.hostAccess, ctx.uri, subject, command);
}

/** /proc/sys/net of the host the URI names: over ssh for qemu+ssh, unknown otherwise; other paths stay local. */
export function hostFs(local: LocalFs, runner: Runner, access: Exclude<HostAccess, { kind: 'local' }>): LocalFs {
  return {
    ...local,
    async read(path) {
      if (!HOST_NETWORK_FILES.test(path)) return local.read(path);
      if (access.kind === 'none') return undefined;
      const r = await runner.run(overSsh(access.target, sysctlFileReadCommand(path)));
      return r.exitCode === 0 ? r.stdout : undefined;
    },
  };
}
