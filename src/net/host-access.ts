/**
 * How kvmctl reaches the host a URI names, for what libvirt does not report
 * (bridges, iptables, sysctls): on this machine, over the same ssh transport as
 * a qemu+ssh URI, or not at all. ssh gets the URI's user, host, port, keyfile and
 * no_verify exactly as libvirt's own ssh transport does, and the remote command
 * line is the argv with every word single-quoted, so the remote shell hands the
 * program exactly those words.
 */
import type { Command } from '../exec/command.js';
import { isLocalUri, parseLibvirtUri } from '../libvirt/uri.js';

export interface SshTarget {
  host: string;
  user?: string;
  port?: string;
  keyfile?: string;
  noVerify: boolean;
  /** The ssh program (the URI's `command` parameter), ssh by default. */
  program: string;
}

export type HostAccess =
  | { kind: 'local' }
  | { kind: 'ssh'; target: SshTarget }
  | { kind: 'none'; reason: string };

export function hostAccessFor(uri: string): HostAccess {
  if (isLocalUri(uri)) return { kind: 'local' };
  const u = parseLibvirtUri(uri);
  if (!u) return { kind: 'none', reason: `cannot parse ${uri}` };
  if (u.transport !== 'ssh') {
    const how = u.transport ? `${u.driver}+${u.transport}` : `${u.driver} (TLS)`;
    return { kind: 'none', reason: `${how} carries only libvirt's own protocol; bridges, iptables and sysctls are read and changed over ssh, with a qemu+ssh:// URI` };
  }
  const p = u.params;
  return {
    kind: 'ssh',
    target: {
      host: u.host ?? 'localhost',
      user: u.user,
      port: u.port,
      keyfile: p.get('keyfile') ?? undefined,
      noVerify: p.get('no_verify') === '1',
      program: p.get('command') ?? 'ssh',
    },
  };
}

/** `user@host` (or `host`) for messages. */
export function sshTargetName(t: SshTarget): string {
  return `${t.user ? `${t.user}@` : ''}${t.host}${t.port ? `:${t.port}` : ''}`;
}

/** POSIX single quoting: the remote shell turns each quoted word back into exactly that word. */
export function quoteForRemoteShell(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The same command, run on the target over ssh (non-interactive: no password prompt, no escape character). */
export function overSsh(t: SshTarget, cmd: Command): Command {
  const options = [
    ...(t.port ? ['-p', t.port] : []),
    ...(t.user ? ['-l', t.user] : []),
    ...(t.keyfile ? ['-i', t.keyfile] : []),
    '-T',
    '-e',
    'none',
    '-o',
    'BatchMode=yes',
    ...(t.noVerify ? ['-o', 'StrictHostKeyChecking=no'] : []),
  ];
  // LC_ALL=C on the remote side too: messages and numbers are parsed.
  const remote = ['env', 'LC_ALL=C', cmd.program, ...cmd.args].map(quoteForRemoteShell).join(' ');
  return { ...cmd, program: t.program, args: [...options, '--', t.host, remote] };
}
