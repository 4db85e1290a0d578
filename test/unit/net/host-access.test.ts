/**
 * How the facts libvirt does not give (bridges, NAT, sysctls) reach the host a URI
 * names: over the URI's ssh transport, argv quoted word by word for the remote
 * shell, or not at all.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostAccessFor, overSsh, quoteForRemoteShell } from '../../../src/net/host-access.js';

const SSH_URI = 'qemu+ssh://root@10.77.1.2:2222/system?keyfile=/keys/id&no_verify=1';

const SSH_OPTS = ['-p', '2222', '-l', 'root', '-i', '/keys/id', '-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '--', '10.77.1.2'];

describe('host access', () => {
  it('takes user, host, port, keyfile and no_verify from a qemu+ssh URI, as libvirt does', () => {
    expect(hostAccessFor(SSH_URI)).toEqual({
      kind: 'ssh',
      target: { host: '10.77.1.2', user: 'root', port: '2222', keyfile: '/keys/id', noVerify: true, program: 'ssh' },
    });
  });

  it('gives no shell access through tcp or tls, with the reason', () => {
    const a = hostAccessFor('qemu+tcp://kvm1/system');
    expect(a).toEqual({ kind: 'none', reason: expect.stringMatching(/^qemu\+tcp carries only libvirt's own protocol/) });
    expect(hostAccessFor('qemu://kvm1/system')).toMatchObject({ kind: 'none', reason: expect.stringMatching(/^qemu \(TLS\)/) });
  });

  it('passes every argv word through the remote shell unchanged, whatever it holds', () => {
    const access = hostAccessFor(SSH_URI);
    if (access.kind !== 'ssh') throw new Error('expected ssh');
    const hostile = ["a'b", '$(touch /tmp/pwned)', '`id`', 'x;reboot', 'a b', '', '-rf', '\n', '"q"', '\\', '*'];
    const cmd = overSsh(access.target, { program: 'ip', args: ['link', 'show', ...hostile], mutates: false });
    expect(cmd.program).toBe('ssh');
    expect(cmd.args.slice(0, -1)).toEqual(SSH_OPTS);
    // A real POSIX shell splits the remote command line back into exactly the argv.
    const words = spawnSync('sh', ['-c', `for w in ${cmd.args.at(-1)}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
    expect(words.stdout.split('\0').slice(0, -1)).toEqual(['env', 'LC_ALL=C', 'ip', 'link', 'show', ...hostile]);
    expect(quoteForRemoteShell("it's")).toBe(`'it'\\''s'`);
  });

  it('puts a host that looks like an option after --', () => {
    const access = hostAccessFor('qemu+ssh://-oProxyCommand=x/system');
    if (access.kind !== 'ssh') throw new Error('expected ssh');
    const args = overSsh(access.target, { program: 'ip', args: [], mutates: false }).args;
    expect(args.indexOf('--')).toBe(args.indexOf('-oProxyCommand=x') - 1);
  });
});
