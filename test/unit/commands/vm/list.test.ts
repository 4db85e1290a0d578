/** `vm list` from recorded virsh output; two virsh processes however many VMs exist. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { recorded, runKvmctl, stubBatch } from '../../../support/harness.js';
import { RECORDED_WEB, RECORDED_WEB_LEASE } from '../../../support/vm.js';

const LIST_WORDS = [['domstats', '--raw', '--state', '--vcpu', '--balloon', '--block', '--interface', '--nowait'], ['list', '--all', '--autostart', '--name'], ['net-list', '--all']];

/** The recorded running VM's stats block, renamed. */
function runningStats(name: string): string {
  const text = recorded('vm/virsh-domstats-list.txt');
  const block = text.slice(text.indexOf("Domain: 'fxvm-web'"), text.indexOf("Domain: 'fxvm-off'"));
  return block.replace("Domain: 'fxvm-web'", `Domain: '${name}'`);
}

/** The recorded running VM's NIC list with another MAC. */
function runningNics(mac: string): string {
  return recorded('vm/virsh-domiflist-web.txt').replace('52:54:00:f1:00:01', mac);
}

function leaseLine(mac: string, ip: string): string {
  return ` 2026-11-25 03:00:00   ${mac}   ipv4       ${ip}/24   -              01:${mac}\n`;
}

/** N running VMs with a lease each: the stubs of both batches. */
function stubRunningVms(runner: FakeRunner, n: number): FakeRunner {
  const names = Array.from({ length: n }, (_, i) => `vm-${String(i).padStart(3, '0')}`);
  const mac = (i: number) => `52:54:00:aa:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  const header = ' Expiry Time           MAC address         Protocol   IP address          Hostname       Client ID or DUID\n-----\n';
  stubBatch(runner, LIST_WORDS, [names.map(runningStats).join(''), `${names[0]}\n\n`, recorded('vm/virsh-net-list-all.txt')]);
  stubBatch(
    runner,
    [['net-dhcp-leases', '--network', 'default'], ...names.map((nm) => ['domiflist', '--domain', nm])],
    [header + names.map((_, i) => leaseLine(mac(i), `10.1.${i >> 8}.${i & 255}`)).join(''), ...names.map((_, i) => runningNics(mac(i)))],
  );
  return runner;
}

describe('vm list', () => {
  it('shows each VM: state, vCPUs, memory, autostart, leased IPs, block devices and their size', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, [recorded('vm/virsh-domstats-list.txt'), recorded('vm/virsh-list-all-autostart-name.txt'), recorded('vm/virsh-net-list-all.txt')]);
    stubBatch(runner, [['net-dhcp-leases', '--network', 'default'], ['domiflist', '--domain', 'fxvm-web']], [recorded('vm/virsh-net-dhcp-leases-default.txt'), recorded('vm/virsh-domiflist-web.txt')]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const none = { migrating: false, migratingTo: null };
    expect(parseOutput(['vm', 'list'], r.out)).toEqual([
      { name: 'fxvm odd;name', state: 'shutoff', vcpus: 1, memoryBytes: 64 * 1024 ** 2, maxMemoryBytes: 64 * 1024 ** 2, autostart: false, addresses: [], diskCount: 0, diskBytes: 0, ...none },
      { name: 'fxvm-off', state: 'shutoff', vcpus: 2, memoryBytes: 128 * 1024 ** 2, maxMemoryBytes: 128 * 1024 ** 2, autostart: false, addresses: [], diskCount: 2, diskBytes: 64 * 1024 ** 2 * 2, ...none },
      { ...RECORDED_WEB, addresses: [RECORDED_WEB_LEASE], diskCount: 2, diskBytes: 1073741824 + 374784, ...none },
    ]);
    runner.verify();
  });

  it('renders a table with a row per VM, odd names as they are', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, [recorded('vm/virsh-domstats-list.txt'), '\n', recorded('vm/virsh-net-list-all.txt')]);
    stubBatch(runner, [['net-dhcp-leases', '--network', 'default'], ['domiflist', '--domain', 'fxvm-web']], [recorded('vm/virsh-net-dhcp-leases-default.txt'), recorded('vm/virsh-domiflist-web.txt')]);
    const r = await runKvmctl(['vm', 'list'], runner);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+VCPUS\s+MEMORY\s+AUTOSTART\s+IPS\s+DISKS\s+DISK SIZE$/);
    expect(lines[1]).toMatch(/^fxvm odd;name\s+shutoff\s+1\s+64\.0 MiB\s+no\s+-\s+0\s+-$/);
    expect(lines[3]).toMatch(/^fxvm-web\s+running\s+1\s+256\.0 MiB\s+no\s+192\.168\.122\.\d+\s+2\s+1\.0 GiB$/);
  });

  it('makes the same two virsh calls for 1 VM and for 100', async () => {
    for (const n of [1, 100]) {
      const runner = stubRunningVms(new FakeRunner(), n);
      const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      const vms = parseOutput<Array<{ addresses: Array<{ address: string }> }>>(['vm', 'list'], r.out);
      expect(vms).toHaveLength(n);
      expect(vms[n - 1]?.addresses.map((a) => a.address)).toEqual([`10.1.${(n - 1) >> 8}.${(n - 1) & 255}`]);
      expect(runner.calls).toHaveLength(2);
      runner.verify();
    }
  });

  it('with no running VM (or no active network) the lease query is skipped: one call', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, [recorded('vm/virsh-domstats-list.txt').replace(/Domain: 'fxvm-web'[\s\S]*?(?=Domain: 'fxvm-off')/, ''), '', recorded('vm/virsh-net-list-all.txt')]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'list'], r.out).map((v: { name: string }) => v.name)).toEqual(['fxvm odd;name', 'fxvm-off']);
    expect(runner.calls).toHaveLength(1);
    runner.verify();
  });

  it('--state filters in libvirt; --name-only prints one name a line in one call', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['domstats', '--raw', '--state', '--list-running']], [recorded('vm/virsh-domstats-state-list-running.txt')]);
    const r = await runKvmctl(['vm', 'list', '--state', 'running', '--name-only'], runner);
    expect(r.out).toBe('fxvm-web\n');
    expect(runner.calls).toHaveLength(1);
    const bad = await runKvmctl(['vm', 'list', '--state', 'asleep'], new FakeRunner());
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--state "asleep": expected running, shutoff, paused/);
  });

  it('sorts by name by code unit, the same on every host and locale', async () => {
    // The recorded shut-off VM's stats block (up to the next block or the end).
    const off = /Domain: 'fxvm-off'[\s\S]*?(?=^Domain: |(?![\s\S]))/m.exec(recorded('vm/virsh-domstats-list.txt'))?.[0] ?? '';
    expect(off).toMatch(/block\.count=2/);
    const names = ['b', 'B', 'a', 'Z', 'a-1', 'a1'];
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, [names.map((n) => off.replace("Domain: 'fxvm-off'", `Domain: '${n}'`)).join(''), '', recorded('vm/virsh-net-list-all.txt')]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'list'], r.out).map((v: { name: string }) => v.name)).toEqual(['B', 'Z', 'a', 'a-1', 'a1', 'b']);
    runner.verify();
  });

  it('no VMs: an empty JSON array, a note on stderr for people', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, ['', '', recorded('vm/virsh-net-list-all.txt')], '', 2);
    expect((await runKvmctl(['vm', 'list', '-o', 'json'], runner)).out).toBe('[]\n');
    const t = await runKvmctl(['vm', 'list'], runner);
    expect([t.code, t.out, t.err]).toEqual([0, '', 'no VMs\n']);
  });

  it('an unreachable daemon is exit 5 naming the URI', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, LIST_WORDS, [], recorded('vm/../err-virsh-unreachable.stderr'));
    const r = await runKvmctl(['vm', 'list'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/cannot reach libvirt at qemu:\/\/\/system/);
  });
});
