/**
 * ssh argv for `vm ssh` and the reachability probe of `vm wait --for ssh`.
 * Every word is its own argv element and `--` ends ssh's options before the
 * address, so nothing after it is read as an option (OpenSSH stops option
 * parsing for good at `--`). The remote command is joined by ssh itself and
 * run by the guest user's login shell, as with any ssh.
 */
import { connect } from 'node:net';
import { readCommand, type Command } from '../exec/command.js';

export interface SshLogin {
  address: string;
  user?: string;
  key?: string;
  port?: number;
  /** kvmctl's own known_hosts file, so guests never fill the user's ~/.ssh/known_hosts. */
  knownHosts: string;
  /** The name the guest's host key is kept under: one per VM (its uuid), not per address, which DHCP hands to the next VM. */
  hostKeyAlias: string;
}

export function sshCommand(login: SshLogin, command: string[]): Command {
  return readCommand('ssh', [
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${login.knownHosts}`,
    '-o', `HostKeyAlias=${login.hostKeyAlias}`,
    ...(login.key !== undefined ? ['-i', login.key] : []),
    ...(login.user !== undefined ? ['-l', login.user] : []),
    ...(login.port !== undefined ? ['-p', String(login.port)] : []),
    '--',
    login.address,
    ...command,
  ]);
}

/**
 * Whether an ssh server answers at address:port: a TCP connection whose first
 * line is an SSH identification string (RFC 4253, 4.2). Resolves with what was
 * seen instead, for the wait's status line.
 */
export function probeSsh(address: string, port: number, timeoutMs: number): Promise<{ ok: true; banner: string } | { ok: false; status: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let data = '';
    const finish = (r: { ok: true; banner: string } | { ok: false; status: string }) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, status: `no answer on ${address}:${port}` }), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const line = /^(.*?)\r?\n/.exec(data)?.[1];
      if (line !== undefined) finish(line.startsWith('SSH-') ? { ok: true, banner: line } : { ok: false, status: `${address}:${port} answers, but not as an ssh server` });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, status: `${address}:${port}: ${e.code === 'ECONNREFUSED' ? 'connection refused (sshd not started yet)' : (e.code ?? e.message)}` }));
    socket.on('end', () => finish({ ok: false, status: `${address}:${port} closed the connection` }));
  });
}
