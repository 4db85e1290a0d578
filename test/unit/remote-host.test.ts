/**
 * Facts of a host named by a non-local URI come from that host: its libvirt for
 * the virtualization verdict, the URI's ssh transport for bridges, NAT and
 * sysctls (argv quoted word by word for the remote shell), or nothing at all.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryIO } from '../../src/output/io.js';
import { memoryFs } from '../../src/local-fs.js';
import { isLocalUri, parseLibvirtUri } from '../../src/libvirt/uri.js';
import { hostAccessFor, overSsh, quoteForRemoteShell } from '../../src/net/host-access.js';
import { parseCapabilities, parseHostModelFeatures, offeredDomainTypes } from '../../src/libvirt/capabilities.js';
import { assessFromLibvirt } from '../../src/host/virtualization.js';
import type { Command } from '../../src/exec/command.js';

const rec = (f: string) => readFileSync(new URL(`../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const SSH_URI = 'qemu+ssh://root@10.77.1.2:2222/system?keyfile=/keys/id&no_verify=1';
const SSH_OPTS = ['-p', '2222', '-l', 'root', '-i', '/keys/id', '-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '--', '10.77.1.2'];

describe('libvirt URIs: which are this machine', () => {
  it.each([
    ['qemu:///system', true],
    ['qemu:///session', true],
    ['qemu+unix:///system?socket=/var/tmp/kvmctl-lab/x/run/libvirt-sock', true],
    ['test:///default', true],
    ['qemu+ssh://root@kvm1/system', false],
    ['qemu+ssh:///system', false],
    ['qemu+tcp://10.0.0.5/system', false],
    ['qemu://kvm1.example/system', false],
    ['qemu+tls://kvm1:16514/system', false],
    ['qemu+libssh2://kvm1/system', false],
  ])('%s local=%s', (uri, local) => {
    expect(isLocalUri(uri)).toBe(local);
  });

  it('parses user, host, port, IPv6 literals and parameters', () => {
    expect(parseLibvirtUri('qemu+ssh://ops@[fd00::5]:2200/system?keyfile=/k&no_verify=1')).toMatchObject({
      driver: 'qemu',
      transport: 'ssh',
      user: 'ops',
      host: 'fd00::5',
      port: '2200',
      path: '/system',
    });
  });
});

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

describe('virtualization verdict from libvirt', () => {
  it('a host with /dev/kvm but no vmx/svm: libvirt offers kvm, yet guests must be emulated', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities-devkvm.xml'));
    const v = assessFromLibvirt(caps, offeredDomainTypes(caps), await parseHostModelFeatures(rec('virsh-domcapabilities-kvm-devkvm.xml')));
    expect(v).toMatchObject({ source: 'libvirt', cpuModel: 'AMD kvm64', libvirtOffersKvm: true, nested: false, kvmUsable: false });
    expect(v.cpuFlag).toBeUndefined();
    expect(v.devKvmPresent).toBeUndefined();
    expect(v.reason).toMatch(/no vmx\/svm flag \(libvirt capabilities\), so the kvm domain type its libvirt offers cannot run guests/);
  });

  it('a host without kvm domains (recorded without /dev/kvm)', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities.xml'));
    const v = assessFromLibvirt(caps, offeredDomainTypes(caps), await parseHostModelFeatures(rec('virsh-domcapabilities-kvm.stdout')));
    expect(v).toMatchObject({ libvirtOffersKvm: false, kvmUsable: false });
    expect(v.nested).toBeUndefined();
    expect(v.reason).toMatch(/no hardware virtualization \(no vmx\/svm in libvirt capabilities\)/);
  });

  it('vmx in the capabilities and kvm offered: usable; vmx without kvm: says what to load', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities-devkvm.xml'));
    const withVmx = { ...caps, hostCpuFeatures: [...caps.hostCpuFeatures, 'vmx'] };
    expect(assessFromLibvirt(withVmx, ['qemu', 'kvm'], ['vmx'])).toMatchObject({ cpuFlag: 'vmx', kvmUsable: true, nested: true });
    expect(assessFromLibvirt(withVmx, ['qemu'], []).reason).toMatch(/load kvm_intel on it/);
  });
});

const isBatch = (first: string) => (c: Command) => c.program === 'virsh' && c.args.length === 3 && (c.args[2] ?? '').startsWith(first);
const sshOf = (...argv: string[]) => ['ssh', ...SSH_OPTS, ['env', 'LC_ALL=C', ...argv].map(quoteForRemoteShell).join(' ')];

async function run(uri: string, args: string[], runner: FakeRunner) {
  const io = memoryIO({ PATH: '/usr/sbin:/usr/bin', KVMCTL_STATE_DIR: '/nonexistent' });
  // This machine's files say KVM works; none of it may reach a remote host's report.
  const fs = memoryFs({ '/proc/cpuinfo': 'processor : 0\nflags : vmx\n', '/dev/kvm': '', '/proc/sys/net/ipv4/ip_forward': '0\n', '/usr/bin/virsh': '' });
  const code = await main(['node', 'kvmctl', '-c', uri, ...args], { io, runner, fs, version: '0', signal: new AbortController().signal, argv: [] });
  return { code, out: io.out, err: io.err };
}

describe('kvmctl host for a remote URI', () => {
  it('reads bridges, iptables and ip_forward over ssh and nothing of this machine', async () => {
    const batch = rec('virsh-host-batch.txt');
    const runner = new FakeRunner()
      .stub(isBatch("'version' '--daemon'"), { stdout: batch })
      .stub(isBatch("'net-dumpxml' '--network' 'default'"), { stdout: rec('virsh-net-dumpxml-default.xml') })
      .stub(sshOf('ip', '-j', '-d', 'addr', 'show'), { stdout: rec('ip-j-d-addr-show.json') })
      .stub(sshOf('iptables-save'), { stdout: rec('iptables-save.txt') })
      .stub(sshOf('cat', '--', '/proc/sys/net/ipv4/ip_forward'), { stdout: '1\n' })
      .stub(sshOf('cat', '--', '/proc/sys/net/bridge/bridge-nf-call-iptables'), { exitCode: 1, stderr: 'cat: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory' });
    const r = await run(SSH_URI, ['host', '-o', 'json'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const f = JSON.parse(r.out);
    expect(f.access).toEqual({ kind: 'ssh', target: 'root@10.77.1.2:2222' });
    expect(f.virtualization.source).toBe('libvirt');
    expect(f.virtualization.cpuFlag).toBeUndefined();
    expect(f.nat.ipForward).toBe(true);
    expect(f.bridges.map((b: { name: string }) => b.name)).toContain('virbr0');
    expect(f.tools).toEqual([{ name: 'virsh', path: '/usr/bin/virsh' }]);
    // The remote batch also asks for the kvm domain capabilities.
    const virshBatch = runner.calls.find((c) => c.program === 'virsh' && (c.args[2] ?? '').startsWith("'version'"));
    expect(virshBatch?.args[2]).toMatch(/'domcapabilities' '--virttype' 'kvm'$/);
    expect(runner.calls.filter((c) => c.program !== 'virsh').every((c) => c.program === 'ssh')).toBe(true);
  });

  it('qemu+tcp: bridges and NAT are not available, with the reason; no ip or iptables runs anywhere', async () => {
    const runner = new FakeRunner()
      .stub(isBatch("'version' '--daemon'"), { stdout: rec('virsh-host-batch.txt') })
      .stub(isBatch("'net-dumpxml' '--network' 'default'"), { stdout: rec('virsh-net-dumpxml-default.xml') });
    const r = await run('qemu+tcp://kvm1/system', ['host', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.out);
    expect(f.bridgesError).toMatch(/^not available: qemu\+tcp carries only libvirt's own protocol/);
    expect(f.nat).toEqual({ rules: [], error: f.bridgesError });
    expect(runner.calls.every((c) => c.program === 'virsh')).toBe(true);
  });

  it('refuses to change another host\'s bridges over ssh (exit 5) and runs nothing that changes state', async () => {
    const runner = new FakeRunner().stub(sshOf('ip', '-j', '-d', 'addr', 'show'), { stdout: rec('ip-j-d-addr-show.json') });
    const r = await run(SSH_URI, ['bridge', 'create', 'br9'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/ip link add .*: kvmctl does not change the bridges, addresses or firewall of another host \(root@10\.77\.1\.2:2222\); nothing was changed/);
    expect(runner.calls.every((c) => !c.mutates)).toBe(true);
  });
});
