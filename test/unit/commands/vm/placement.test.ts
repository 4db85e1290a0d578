/**
 * vm create -H auto: which host is kept or dropped and why, which one is chosen
 * (most memory available, ties by name), from recorded virsh output
 * (test/fixtures/recorded/migration/placement-*), and that vm create then runs
 * against the chosen host's URI only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { CommandTimeoutError } from '../../../../src/exec/runner.js';
import { chooseHost, judgeHost, needsOf, VCPU_OVERCOMMIT_LIMIT, type HostFacts } from '../../../../src/commands/vm/placement.js';
import { main } from '../../../../src/main.js';
import { memoryIO } from '../../../../src/output/io.js';
import { memoryFs } from '../../../../src/local-fs.js';
import { batchStdout } from '../../../support/harness.js';

const rec = (f: string) => readFileSync(join('test/fixtures/recorded/migration', f), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'kvmctl-place-'));
const hostsFile = join(dir, 'hosts.yaml');
const U = (n: string) => `qemu+unix:///system?socket=/run/${n}/libvirt-sock`;
writeFileSync(hostsFile, `hosts:\n  b: {uri: "${U('b')}"}\n  a: {uri: "${U('a')}"}\n  c: {uri: "${U('c')}"}\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** kvmctl as a user runs it, without -c (the host comes from -H). */
async function kvmctl(args: string[], runner: FakeRunner) {
  const io = memoryIO({ PATH: '/usr/bin', KVMCTL_STATE_DIR: join(dir, 'state'), KVMCTL_HOSTS: hostsFile });
  const code = await main(['node', 'kvmctl', ...args], { io, runner, fs: memoryFs({}), version: '0', signal: new AbortController().signal, argv: [] });
  return { code, err: io.err };
}

const host = (name: string) => ({ name, uri: U(name), labels: {}, groups: [] });
const facts = (availableMemoryBytes: number, extra: Partial<HostFacts> = {}): HostFacts => ({ cpus: 2, availableMemoryBytes, runningVcpus: 1, activeNetworks: ['default'], activePools: ['default'], ...extra });
const GiB = 1024 ** 3;

describe('placement', () => {
  const needs = needsOf('web1', { memory: '2G', vcpus: '2', network: ['network=default'], image: 'data/base.qcow2,size=10G' });

  it('reads what the VM needs from vm create\'s own flags', () => {
    expect(needs).toEqual({ memoryBytes: 2 * GiB, vcpus: 2, networks: ['default'], pools: ['data'] });
    expect(needsOf('x', { image: 'base/debian.qcow2' })).toEqual({ memoryBytes: GiB, vcpus: 1, networks: ['default'], pools: ['base'] });
  });

  it('drops a host for each missing network or pool, memory, the vCPU limit, or no answer, and says so', () => {
    expect(judgeHost(host('a'), facts(GiB, { activePools: [], runningVcpus: 7 }), needs)).toEqual({
      host: 'a',
      uri: U('a'),
      kept: false,
      availableMemoryBytes: GiB,
      reasons: ['no active storage pool "data"', '1.0 GiB of memory available, the VM needs 2.0 GiB', `7 + 2 vCPUs would pass ${VCPU_OVERCOMMIT_LIMIT} per CPU (2 CPUs)`],
    });
    expect(judgeHost(host('b'), { error: 'no answer within 15 s' }, needs).reasons).toEqual(['does not answer: no answer within 15 s']);
    expect(judgeHost(host('c'), facts(8 * GiB, { activePools: ['data'] }), needs)).toMatchObject({ kept: true, reasons: ['8.0 GiB of memory available, 3 of 8 vCPUs'] });
  });

  it('chooses the most memory available; a tie goes to the first name, whatever the order of the inventory', () => {
    const v = [judgeHost(host('b'), facts(8 * GiB), needsOf('x', { image: 'default/b.qcow2' })), judgeHost(host('a'), facts(8 * GiB), needsOf('x', { image: 'default/b.qcow2' })), judgeHost(host('c'), facts(4 * GiB), needsOf('x', { image: 'default/b.qcow2' }))];
    expect(chooseHost(v)?.host).toBe('a');
    expect(chooseHost([v[2]!, v[0]!])?.host).toBe('b');
    expect(chooseHost([judgeHost(host('a'), facts(1), needsOf('x', { image: 'default/b.qcow2' }))])).toBeUndefined();
  });
});

/** Each host answers the placement batch with the recordings; memory as given. */
function fleet(memFreeKiB: Record<string, number | 'down' | 'hangs'>): FakeRunner {
  const r = new FakeRunner();
  for (const [h, kib] of Object.entries(memFreeKiB)) {
    const mine = (c: Command) => c.args[1] === U(h) && (c.args[2] ?? '').startsWith("'nodeinfo'");
    if (kib === 'hangs') {
      r.stub(mine, (cmd) => {
        throw new CommandTimeoutError(cmd);
      });
    } else if (kib === 'down') r.stub(mine, { exitCode: 1, stderr: "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/run/x': No such file or directory\n" });
    else r.stub(mine, { stdout: batchStdout([rec('placement-nodeinfo.txt'), `total  : 20000000 KiB\nfree   : ${kib} KiB\nbuffers: 0 KiB\ncached : 0 KiB\n`, rec('placement-domstats-vcpu.txt'), rec('placement-net-list.txt'), rec('placement-pool-list.txt')]) });
  }
  return r;
}

describe('vm create -H auto', () => {
  it('--explain says why each host was kept or dropped; the create then runs on the chosen host only', async () => {
    const runner = fleet({ a: 4_000_000, b: 9_000_000, c: 'down' });
    // The create itself (on b) is answered by nothing: it fails at its first call, which must name b's URI.
    const r = await kvmctl(['-H', 'auto', 'vm', 'create', 'web1', '--memory', '1G', '--network', 'network=default', '--image', 'fxmig/base.qcow2', '--explain'], runner);
    expect(r.err).toContain('placement: a kept: 3.8 GiB of memory available, 2 of 8 vCPUs\n');
    expect(r.err).toContain('placement: b kept: 8.6 GiB of memory available, 2 of 8 vCPUs\n');
    expect(r.err).toContain(`placement: c dropped: does not answer: cannot reach libvirt at ${U('c')} (Failed to connect socket to '/run/x': No such file or directory)\n`);
    expect(r.err).toContain('placement: chose b (the most memory available of the hosts kept; ties go to the first name)\n');
    const after = runner.calls.slice(3);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.args[1] === U('b'))).toBe(true);
  });

  it('a host out of --host-timeout is dropped in the words -H uses for it', async () => {
    const runner = fleet({ a: 100, b: 200, c: 'hangs' });
    const r = await kvmctl(['-H', 'auto', '--host-timeout', '4', 'vm', 'create', 'web1', '--memory', '1G', '--image', 'fxmig/base.qcow2', '--explain'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain('placement: c dropped: does not answer: no answer within 4 s; its programs were stopped\n');
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
  });

  it('no host fits: exit 5 naming every host\'s reason, and nothing is created anywhere', async () => {
    const runner = fleet({ a: 100, b: 200, c: 'down' });
    const r = await kvmctl(['-H', 'auto', 'vm', 'create', 'web1', '--memory', '1G', '--image', 'fxmig/base.qcow2'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain('-H auto: no host of the inventory can take VM "web1": b: 200.0 KiB of memory available, the VM needs 1.0 GiB; a: 100.0 KiB of memory available, the VM needs 1.0 GiB; c: does not answer:');
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    runner.verify();
  });

  it('-H NAME creates on that host without asking the others; two -H are exit 2', async () => {
    const two = await kvmctl(['-H', 'a', '-H', 'b', 'vm', 'create', 'web1'], new FakeRunner());
    expect(two.code).toBe(2);
    expect(two.err).toContain('vm create goes to one host, -H was given 2 times');
    const unknown = await kvmctl(['-H', 'zz', 'vm', 'create', 'web1'], new FakeRunner());
    expect(unknown.code).toBe(3);
  });
});
