/**
 * Addresses of the current run, from the recording of one VM's two runs
 * (test/fixtures/recorded/rerun/record.sh: the lab's tiny guest destroyed and
 * started again; virsh right after the second start still lists the first
 * run's lease). The recordings were made with TZ=UTC, as virsh prints lease
 * expiry times in the client's local time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { readBootRecord, writeBootRecord } from '../../../../src/exec/boot-records.js';
import { parseDhcpLeases, networkCalls } from '../../../../src/libvirt/network-commands.js';
import { dhcpLeaseSeconds } from '../../../../src/libvirt/network-xml.js';
import { ARP_SETTLE_MS, arpOfRun, leasesOfRun, type LeaseSeen } from '../../../../src/commands/vm/run-addresses.js';
import type { FoundAddress } from '../../../../src/commands/vm/ip.js';
import { runTimed, STATE, RUNNING, useFakeTime } from './vm-states.js';
import { batchArgv, mutations, newStateDir, stubBatch, URI, virshArgv } from '../../../support/harness.js';

const rec = (file: string) => readFileSync(join('test/fixtures/recorded/rerun', file), 'utf8');
const START_1 = Number(rec('start-1.ms'));
const START_2 = Number(rec('start-2.ms'));
const VM = 'fxrr-guest';
const UUID = /^UUID:\s+(\S+)$/m.exec(rec('virsh-dominfo-run2.txt'))![1]!;

let tz: string | undefined;
beforeAll(() => {
  tz = process.env.TZ;
  process.env.TZ = 'UTC';
});
afterAll(() => {
  process.env.TZ = tz;
});

const seen = (file: string, leaseSeconds: number | null = 3600): LeaseSeen[] => parseDhcpLeases(rec(file)).map((lease) => ({ lease, leaseSeconds, dev: 'vnet1' }));
const keyOf = (l: LeaseSeen) => `${l.lease.mac} ${l.lease.ip} ${l.lease.expiryTime}`;

describe('which leases belong to the current run', () => {
  it('the network gives no lease time: dnsmasq default of an hour; <lease expiry unit> when given; 0 is infinite', async () => {
    const xml = rec('virsh-net-dumpxml-default.xml');
    expect(await dhcpLeaseSeconds(xml)).toBe(3600);
    const withLease = (lease: string) => xml.replace(/(<range [^>]*?)\/>/, `$1>${lease}</range>`);
    expect(withLease("<lease expiry='2' unit='hours'/>")).not.toBe(xml);
    expect(await dhcpLeaseSeconds(withLease("<lease expiry='2' unit='hours'/>"))).toBe(7200);
    expect(await dhcpLeaseSeconds(withLease("<lease expiry='30'/>"))).toBe(1800);
    expect(await dhcpLeaseSeconds(withLease("<lease expiry='0'/>"))).toBeNull();
  });

  it('right after the restart the listed lease was made before the run started: not taken', () => {
    const atStart = seen('virsh-net-dhcp-leases-run2-start.txt');
    expect(atStart).toHaveLength(1);
    // The same lease as run 1 had: the previous run's address, still listed by dnsmasq.
    expect(atStart.map(keyOf)).toEqual(seen('virsh-net-dhcp-leases-run1.txt').map(keyOf));
    expect(leasesOfRun(atStart, { id: 2, startedAtMs: START_2 }, new Set())).toEqual([]);
    // For run 1 it was its own lease.
    expect(leasesOfRun(atStart, { id: 1, startedAtMs: START_1 }, new Set())).toHaveLength(1);
  });

  it('once the guest of the new run has leased, its lease is taken', () => {
    const leased = seen('virsh-net-dhcp-leases-run2-leased.txt');
    expect(leasesOfRun(leased, { id: 2, startedAtMs: START_2 }, undefined).map((l) => l.lease.ip)).toEqual(['192.168.122.84']);
  });

  it('no known start: only a lease made or renewed while the wait watches (not one of its first look)', () => {
    const first = new Set(seen('virsh-net-dhcp-leases-run2-start.txt').map(keyOf));
    expect(leasesOfRun(seen('virsh-net-dhcp-leases-run2-start.txt'), { id: 2 }, first)).toEqual([]);
    expect(leasesOfRun(seen('virsh-net-dhcp-leases-run2-leased.txt'), { id: 2 }, first)).toHaveLength(1);
    // A single look (vm ssh) without a known start has nothing to compare with and takes nothing on this rule.
    expect(leasesOfRun(seen('virsh-net-dhcp-leases-run2-leased.txt'), { id: 2 }, undefined)).toEqual([]);
  });

  it('an infinite lease says nothing about when it was made: only the wait\'s own comparison counts', () => {
    const first = new Set(seen('virsh-net-dhcp-leases-run2-start.txt', null).map(keyOf));
    expect(leasesOfRun(seen('virsh-net-dhcp-leases-run2-start.txt', null), { id: 2, startedAtMs: START_2 }, first)).toEqual([]);
  });

  it('ARP: an entry of the first look counts only once the run is known to be settled; a new entry counts', () => {
    const arp: FoundAddress[] = [{ interface: 'vnet1', mac: '52:54:00:77:00:01', protocol: 'ipv4', address: '192.168.122.84', prefix: 0, source: 'arp' }];
    const first = new Set(['52:54:00:77:00:01 192.168.122.84']);
    expect(arpOfRun(arp, { id: 2, startedAtMs: START_2 }, START_2 + 5000, first)).toEqual([]);
    expect(arpOfRun(arp, { id: 2, startedAtMs: START_2 }, START_2 + ARP_SETTLE_MS, first)).toEqual(arp);
    expect(arpOfRun(arp, { id: 2 }, START_2 + 5000, new Set())).toEqual(arp);
    expect(arpOfRun(arp, { id: 2 }, START_2 + ARP_SETTLE_MS * 10, first)).toEqual([]);
  });
});

describe('boot records', () => {
  it('one per URI and uuid; a missing one is undefined', async () => {
    const dir = newStateDir();
    expect(await readBootRecord(dir, URI, UUID)).toBeUndefined();
    await writeBootRecord(dir, URI, UUID, { id: 2, startedAtMs: START_2 });
    expect(await readBootRecord(dir, URI, UUID)).toEqual({ id: 2, startedAtMs: START_2 });
    expect(await readBootRecord(dir, 'qemu+ssh://root@kvm2/system', UUID)).toBeUndefined();
  });
});

describe('vm wait --for ip after a destroy and a start', () => {
  useFakeTime();
  const INFO = virshArgv('dominfo', '--domain', VM);
  const XML = virshArgv('dumpxml', '--domain', VM);
  const NOAGENT = { exitCode: 1, stderr: readFileSync('test/fixtures/recorded/vm/err-virsh-domifaddr-agent-no-channel.stderr', 'utf8') };
  const NOARP = { exitCode: 1, stderr: readFileSync('test/fixtures/recorded/vm/err-virsh-domifaddr-arp.stderr', 'utf8') };


  it('kvmctl started the run: the previous run\'s lease is set aside until the new run has its own', async () => {
    const stateDir = newStateDir();
    await writeBootRecord(stateDir, URI, UUID, { id: 2, startedAtMs: START_2 });
    const runner = new FakeRunner().stub(STATE(VM), RUNNING, Infinity).stub(INFO, { stdout: rec('virsh-dominfo-run2.txt') }).stub(XML, { stdout: rec('virsh-dumpxml-run2.xml') });
    stubBatch(runner, [networkCalls.dumpxml('default')], [rec('virsh-net-dumpxml-default.xml')]);
    const answers = [rec('virsh-net-dhcp-leases-run2-start.txt'), rec('virsh-net-dhcp-leases-run2-start.txt'), rec('virsh-net-dhcp-leases-run2-leased.txt')];
    stubLeases(runner, answers);
    runner.stub(virshArgv('domifaddr', '--domain', VM, '--source', 'agent'), NOAGENT, 2).stub(virshArgv('domifaddr', '--domain', VM, '--source', 'arp'), NOARP, 2);
    const r = await runTimed(['vm', 'wait', VM, '--for', 'ip'], runner, { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('192.168.122.84\n');
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });

  it('started elsewhere (no record) on a local URI: the start of its QEMU process (recorded /proc) sets the old lease aside', async () => {
    const pid = /^(\d+) /.exec(rec('proc-qemu-stat.txt'))![1]!;
    const files = { '/proc/stat': rec('proc-stat-btime.txt'), [`/proc/${pid}/cmdline`]: rec('proc-qemu-cmdline.bin'), [`/proc/${pid}/stat`]: rec('proc-qemu-stat.txt'), '/proc/1/cmdline': '/sbin/init\0' };
    const runner = new FakeRunner().stub(STATE(VM), RUNNING, Infinity).stub(INFO, { stdout: rec('virsh-dominfo-run2.txt') }).stub(XML, { stdout: rec('virsh-dumpxml-run2.xml') });
    stubBatch(runner, [networkCalls.dumpxml('default')], [rec('virsh-net-dumpxml-default.xml')]);
    stubLeases(runner, [rec('virsh-net-dhcp-leases-run2-start.txt'), rec('virsh-net-dhcp-leases-run2-leased.txt')]);
    runner.stub(virshArgv('domifaddr', '--domain', VM, '--source', 'agent'), NOAGENT).stub(virshArgv('domifaddr', '--domain', VM, '--source', 'arp'), NOARP);
    const r = await runTimed(['vm', 'wait', VM, '--for', 'ip'], runner, { files });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('192.168.122.84\n');
    runner.verify();
  });

  it('only the old lease until the timeout: exit 6 saying which lease was set aside and why', async () => {
    const stateDir = newStateDir();
    await writeBootRecord(stateDir, URI, UUID, { id: 2, startedAtMs: START_2 });
    const runner = new FakeRunner().stub(STATE(VM), RUNNING, Infinity).stub(INFO, { stdout: rec('virsh-dominfo-run2.txt') }).stub(XML, { stdout: rec('virsh-dumpxml-run2.xml') });
    stubBatch(runner, [networkCalls.dumpxml('default')], [rec('virsh-net-dumpxml-default.xml')]);
    stubLeases(runner, [rec('virsh-net-dhcp-leases-run2-start.txt')]);
    runner.stub(virshArgv('domifaddr', '--domain', VM, '--source', 'agent'), NOAGENT, Infinity).stub(virshArgv('domifaddr', '--domain', VM, '--source', 'arp'), NOARP, Infinity);
    // After the timeout kvmctl looks for a cloud-init seed to report on: the recorded domain has none.
    runner.stub(virshArgv('dumpxml', '--domain', VM, '--inactive'), { stdout: rec('virsh-dumpxml-run2.xml') });
    const r = await runTimed(['vm', 'wait', VM, '--for', 'ip', '--timeout', '3'], runner, { stateDir });
    expect(r.code).toBe(6);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /timed out after 3 s waiting for VM "fxrr-guest" to get an IP address \(it is running; no address from lease, agent or arp yet; the lease of 192\.168\.122\.84 made at 2026-12-02T08:17:53Z, before this run started \(2026-12-02T08:17:59Z\), is not taken\)/,
    );
  });
});

/** Answers the leases batch of the default network with each recording in turn (the last one repeats). */
function stubLeases(runner: FakeRunner, answers: string[]): void {
  let i = 0;
  runner.stub(batchArgv([networkCalls.dhcpLeases('default')]), () => ({ stdout: answers[Math.min(i++, answers.length - 1)] ?? '' }), Infinity);
}
