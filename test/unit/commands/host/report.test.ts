/**
 * `kvmctl host` from recorded real output (test/fixtures/recorded, see its README):
 * the lab host with fx-running and fx-disk running on virbr0 and four shut-off domains.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../src/main.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { memoryIO } from '../../../../src/output/io.js';
import { memoryFs } from '../../../../src/local-fs.js';
import type { hostObject } from '../../../../src/host/facts-json.js';
import { parseOutput } from '../../../support/schemas.js';
import { quoteForRemoteShell } from '../../../../src/net/host-access.js';
import { stubSessionExit, stubSessionOutputs } from '../../../support/harness.js';

const rec = (f: string) => readFileSync(new URL(`../../../fixtures/recorded/${f}`, import.meta.url), 'utf8');

const URI = 'qemu+unix:///system?socket=/var/tmp/kvmctl-lab/kvmlab/run/libvirt-sock';

/** The recorded batch of the host's reads, one output per command (it was recorded as `virsh -c URI 'version --daemon ; echo SEP ; …'`). */
const SEPARATOR = 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n';
const hostOutputs = (batch = rec('virsh-host-batch.txt')) => batch.split(SEPARATOR);

/** The host's virsh session: its facts, then the default network's XML. */
function stubHostSession(runner: FakeRunner, batch?: string, uri = URI): FakeRunner {
  return stubSessionOutputs(runner, [hostOutputs(batch), [rec('virsh-net-dumpxml-default.xml')]], uri);
}

function labRunner(): FakeRunner {
  return stubHostSession(new FakeRunner())
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('ip-j-d-addr-show.json') })
    .stub(['iptables-save'], { stdout: rec('iptables-save.txt') });
}

const files = {
  '/proc/cpuinfo': rec('proc-cpuinfo-first-cpu.txt'),
  '/proc/sys/net/ipv4/ip_forward': '1\n',
  '/usr/bin/virsh': '',
  '/usr/bin/qemu-img': '',
  '/usr/sbin/ip': '',
  '/usr/sbin/iptables': '',
};

async function host(args: string[], runner = labRunner(), machine: { files?: Record<string, string>; writable?: string[] } = {}) {
  const io = memoryIO({ PATH: '/usr/sbin:/usr/bin', KVMCTL_STATE_DIR: '/nonexistent' });
  const code = await main(['node', 'kvmctl', '-c', URI, 'host', ...args], {
    io,
    runner,
    fs: memoryFs(machine.files ?? files, machine.writable),
    version: '0.0.0',
    signal: new AbortController().signal,
    argv: [],
  });
  return { code, out: io.out, err: io.err, runner };
}

/**
 * The verdict on every kind of machine, through the filesystem seam (/proc/cpuinfo,
 * /dev/kvm, /proc/modules) and libvirt's capabilities as recorded on such a machine
 * (test/fixtures/recorded/machine). CI machines differ: e2e tests read these facts
 * from the machine they run on; these tests hold every variant.
 */

describe('kvmctl host', () => {
  it('reports the recorded lab host as JSON facts', async () => {
    const r = await host(['-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const f = parseOutput<ReturnType<typeof hostObject>>(['host'], r.out);
    expect(f.libvirt).toEqual({ uri: URI, reachable: true, error: null, libraryVersion: '9.0.0', daemonVersion: '9.0.0', hypervisor: 'QEMU 7.2.22', domainTypes: ['qemu'] });
    expect(f.virtualization).toMatchObject({ cpuModel: 'AMD EPYC', devKvmPresent: false, kvmUsable: false });
    expect(f.virtualization.cpuFlag).toBeNull();
    expect(f.capacity.running).toEqual({ vms: 2, vcpus: 3, memoryBytes: 2 * 262144 * 1024 });
    expect(f.capacity.defined.vms).toBe(6);
    expect(f.bridges).toEqual([
      expect.objectContaining({ name: 'virbr0', addresses: [{ address: '192.168.122.1', prefix: 24, mac: null, source: 'kernel' }], ports: [{ name: 'vnet0', vm: 'fx-running' }, { name: 'vnet1', vm: 'fx-disk' }] }),
    ]);
    expect(f.networks).toEqual([
      { name: 'default', active: true, autostart: true, persistent: true, bridge: 'virbr0', mode: 'nat', subnet: '192.168.122.0/24', dhcpRange: '192.168.122.2-192.168.122.254' },
    ]);
    expect(f.nat.rules.filter((n) => n.target === 'MASQUERADE')).toHaveLength(3);
    expect(f.nat.rules.every((n) => n.owner === 'libvirt' && n.source === '192.168.122.0/24' && n.destination === '!192.168.122.0/24')).toBe(true);
    expect(f.nat).toMatchObject({ ipForward: true, forwardPolicy: 'ACCEPT' });
    expect(f.pools).toEqual(['fx-pool']);
    r.runner.verify();
  });

  it('prints tables by section', async () => {
    const r = await host([]);
    expect(r.code).toBe(0);
    for (const title of ['Virtualization:', 'libvirt:', 'Capacity:', 'Bridges:', 'NAT and forwarding:', 'NAT rules:', 'libvirt networks:']) {
      expect(r.out).toContain(`\n${title}\n`);
    }
    expect(r.out).toMatch(/KVM usable\s+no: the CPU offers no hardware virtualization/);
    expect(r.out).toMatch(/virbr0\s+UP\s+1500\s+yes\s+192\.168\.122\.1\/24\s+vnet0 \(fx-running\), vnet1 \(fx-disk\)/);
  });

  it('makes the same three subprocess calls however many VMs exist (one virsh session)', async () => {
    const many = rec('virsh-host-batch.txt').replace(/^(Domain: 'fx-off'[\s\S]*?)(?=^Domain:)/m, (block) =>
      Array.from({ length: 200 }, (_, i) => block.replace("'fx-off'", `'bulk-${i}'`)).join(''),
    );
    const runner = stubHostSession(new FakeRunner(), many)
      .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('ip-j-d-addr-show.json') })
      .stub(['iptables-save'], { stdout: rec('iptables-save.txt') });
    const r = await host(['-o', 'json'], runner);
    expect(parseOutput(['host'], r.out).capacity.defined.vms).toBe(205);
    expect(runner.calls).toHaveLength(3);
  });

  it('reports libvirt unreachable with the URI when virsh cannot connect', async () => {
    const runner = stubSessionExit(new FakeRunner(), rec('err-virsh-unreachable.stderr'), 1, URI)
      .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: '[]' })
      .stub(['iptables-save'], { stdout: '' });
    const r = await host(['-o', 'json'], runner);
    // The report is still printed, and the exit code says the daemon did not answer.
    expect(r.code).toBe(5);
    // Under -o json the error is one JSON object on stderr.
    const e = JSON.parse(r.err.trim().split('\n').pop()!).error;
    expect([e.code, e.exit]).toEqual(['refused', 5]);
    expect(e.message).toMatch(/host: cannot reach libvirt at qemu\+unix:.*Failed to connect socket/);
    expect(e.hint).toMatch(/^start the daemon/);
    const f = parseOutput<ReturnType<typeof hostObject>>(['host'], r.out);
    expect(f.libvirt.reachable).toBe(false);
    expect(f.libvirt.error).toMatch(/^cannot reach libvirt at qemu\+unix:.*Failed to connect socket/);
  });
});

describe('kvmctl host on each kind of machine', () => {
  const devKvmNoVmx = (f: string) => rec(`machine/devkvm-novmx/${f}`);
  /** The lab batch with its capabilities answered as on another machine. */
  const batchWithCapabilities = (capabilities: string) => {
    const parts = rec('virsh-host-batch.txt').split(SEPARATOR);
    parts[1] = `${capabilities}\n`;
    return parts.join(SEPARATOR);
  };
  const runnerWith = (batch: string) =>
    stubHostSession(new FakeRunner(), batch)
      .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('ip-j-d-addr-show.json') })
      .stub(['iptables-save'], { stdout: rec('iptables-save.txt') });
  const withVmx = (cpuinfo: string, flag: string) => cpuinfo.replace(/^(flags\s*:.*)$/m, `$1 ${flag}`);
  const KVM_MODULES = 'kvm_intel 409600 0 - Live 0x0\nkvm 1142784 1 kvm_intel, Live 0x0\n';

  const variants = [
    {
      machine: '/dev/kvm present, no vmx/svm (libvirt still offers kvm)',
      files: { ...files, '/proc/cpuinfo': devKvmNoVmx('proc-cpuinfo-first-cpu.txt'), '/dev/kvm': '' },
      writable: ['/dev/kvm'],
      capabilities: devKvmNoVmx('virsh-capabilities.xml'),
      domainTypes: ['qemu', 'kvm'],
      usable: false,
      devKvm: true,
      reason: /^the CPU has no vmx\/svm flag, so \/dev\/kvm cannot run guests: they must be emulated/,
      check: /^kvm\s+warn\s+KVM not usable: the CPU has no vmx\/svm flag/m,
    },
    {
      machine: 'no /dev/kvm, no vmx/svm',
      files,
      writable: [],
      capabilities: undefined,
      domainTypes: ['qemu'],
      usable: false,
      devKvm: false,
      reason: /^the CPU offers no hardware virtualization \(no vmx\/svm flag/,
      check: /^kvm\s+warn\s+KVM not usable: the CPU offers no hardware virtualization/m,
    },
    {
      machine: 'vmx and an accessible /dev/kvm',
      files: { ...files, '/proc/cpuinfo': withVmx(files['/proc/cpuinfo'], 'vmx'), '/dev/kvm': '', '/proc/modules': KVM_MODULES },
      writable: ['/dev/kvm'],
      capabilities: devKvmNoVmx('virsh-capabilities.xml'),
      domainTypes: ['qemu', 'kvm'],
      usable: true,
      devKvm: true,
      reason: /^hardware virtualization \(vmx\) and \/dev\/kvm are available$/,
      check: /^kvm\s+ok\s+hardware virtualization \(vmx\)/m,
    },
    {
      machine: 'vmx without /dev/kvm (module not loaded)',
      files: { ...files, '/proc/cpuinfo': withVmx(files['/proc/cpuinfo'], 'vmx') },
      writable: [],
      capabilities: undefined,
      domainTypes: ['qemu'],
      usable: false,
      devKvm: false,
      reason: /^the CPU has vmx but \/dev\/kvm is missing: load the module \(modprobe kvm_intel\)$/,
      check: /^kvm\s+warn\s+KVM not usable: the CPU has vmx but \/dev\/kvm is missing/m,
    },
    {
      machine: 'svm with a /dev/kvm this user cannot open',
      files: { ...files, '/proc/cpuinfo': withVmx(files['/proc/cpuinfo'], 'svm'), '/dev/kvm': '' },
      writable: [],
      capabilities: devKvmNoVmx('virsh-capabilities.xml'),
      domainTypes: ['qemu', 'kvm'],
      usable: false,
      devKvm: true,
      reason: /^\/dev\/kvm exists but this user cannot open it: run as root or join the kvm group$/,
      check: /^kvm\s+warn\s+KVM not usable: \/dev\/kvm exists but this user cannot open it/m,
    },
  ];

  for (const v of variants) {
    it(`${v.machine}: KVM usable ${v.usable ? 'yes' : 'no'}, and libvirt's domain types as it reports them`, async () => {
      const batch = v.capabilities === undefined ? rec('virsh-host-batch.txt') : batchWithCapabilities(v.capabilities);
      const machine = { files: v.files, writable: v.writable };
      const json = await host(['-o', 'json'], runnerWith(batch), machine);
      expect(json.err).toBe('');
      expect(json.code).toBe(0);
      const f = parseOutput<ReturnType<typeof hostObject>>(['host'], json.out);
      expect(f.libvirt.domainTypes).toEqual(v.domainTypes);
      expect(f.virtualization).toMatchObject({ kvmUsable: v.usable, devKvmPresent: v.devKvm });
      expect(f.virtualization.reason).toMatch(v.reason);
      const table = await host([], runnerWith(batch), machine);
      expect(table.out).toMatch(new RegExp(`KVM usable\\s+${v.usable ? 'yes' : 'no'}: `));
      const check = await host(['check'], runnerWith(batch), machine);
      expect(check.out).toMatch(v.check);
    });
  }
});

const SSH_URI = 'qemu+ssh://root@10.77.1.2:2222/system?keyfile=/keys/id&no_verify=1';

const SSH_OPTS = ['-p', '2222', '-l', 'root', '-i', '/keys/id', '-T', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '--', '10.77.1.2'];

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
    // A remote host is also asked for the kvm domain capabilities: a seventh command, answered with nothing here.
    const runner = stubSessionOutputs(new FakeRunner(), [[...hostOutputs(), ''], [rec('virsh-net-dumpxml-default.xml')]], SSH_URI)
      .stub(sshOf('ip', '-j', '-d', 'addr', 'show'), { stdout: rec('ip-j-d-addr-show.json') })
      .stub(sshOf('iptables-save'), { stdout: rec('iptables-save.txt') })
      .stub(sshOf('cat', '--', '/proc/sys/net/ipv4/ip_forward'), { stdout: '1\n' })
      .stub(sshOf('cat', '--', '/proc/sys/net/bridge/bridge-nf-call-iptables'), { exitCode: 1, stderr: 'cat: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory' });
    const r = await run(SSH_URI, ['host', '-o', 'json'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const f = parseOutput(['host'], r.out);
    expect(f.access).toEqual({ kind: 'ssh', target: 'root@10.77.1.2:2222', reason: null });
    expect(f.virtualization.source).toBe('libvirt');
    expect(f.virtualization.cpuFlag).toBeNull();
    expect(f.nat.ipForward).toBe(true);
    expect(f.bridges.map((b: { name: string }) => b.name)).toContain('virbr0');
    expect(f.tools).toEqual([{ name: 'virsh', path: '/usr/bin/virsh' }]);
    // The remote batch also asks for the kvm domain capabilities.
    expect(runner.sent[0]?.[0]).toMatch(/ ; 'domcapabilities' '--virttype' 'kvm' ; echo /);
    expect(runner.calls.filter((c) => c.program !== 'virsh').every((c) => c.program === 'ssh')).toBe(true);
  });

  it('qemu+tcp: bridges and NAT are not available, with the reason; no ip or iptables runs anywhere', async () => {
    const runner = stubSessionOutputs(new FakeRunner(), [[...hostOutputs(), ''], [rec('virsh-net-dumpxml-default.xml')]], 'qemu+tcp://kvm1/system');
    const r = await run('qemu+tcp://kvm1/system', ['host', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const f = parseOutput(['host'], r.out);
    expect(f.bridgesError).toMatch(/^not available: qemu\+tcp carries only libvirt's own protocol/);
    expect(f.nat).toEqual({ ipForward: null, forwardPolicy: null, bridgeNfCallIptables: null, rules: [], error: f.bridgesError });
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
