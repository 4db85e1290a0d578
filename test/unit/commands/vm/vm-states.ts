/**
 * What the tests of vm verbs that read a VM's state share: the domstate argv
 * and its recorded answers, answers that change from call to call, and fake
 * time for the verbs that poll.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { readFileSync } from 'node:fs';
import { writeBootRecord } from '../../../../src/exec/boot-records.js';
import { networkCalls, parseDhcpLeases } from '../../../../src/libvirt/network-commands.js';
import { batchArgv, recorded, runKvmctl, stubBatch, type TestOptions, URI, virshArgv } from '../../../support/harness.js';

export const STATE = (name: string) => virshArgv('domstate', '--domain', name, '--reason');
export const RUNNING = { stdout: recorded('vm/virsh-domstate-web.txt') };
export const SHUTOFF = { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-shutdown.txt', 'utf8') };
export const PAUSED = { stdout: recorded('vm/virsh-domstate-paused.txt') };
export const NOT_FOUND = { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-nosuch.stderr') };

/** The reads of vm start's base-image check on a host with no other VMs and no pools. */
export function emptyInventory(runner: FakeRunner): FakeRunner {
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], ['', '']);
  return stubBatch(runner, [['pool-list', '--all', '--name']], ['']);
}

/**
 * What kvmctl reads right after it started a VM: the new run's id and uuid
 * (dominfo of the recorded running VM), kept as its boot record.
 */
export function afterStart(runner: FakeRunner, name: string): FakeRunner {
  return runner.stub(virshArgv('dominfo', '--domain', name), { stdout: recorded('vm/virsh-dominfo-web.txt') });
}

/** Answers the same argv differently on each call (the last answer repeats). */
export function sequence(runner: FakeRunner, argv: string[], answers: Array<{ stdout?: string; stderr?: string; exitCode?: number }>): FakeRunner {
  let i = 0;
  return runner.stub(argv, () => answers[Math.min(i++, answers.length - 1)] ?? {}, Infinity);
}

/** Fake timers around each test of the file that calls it: poll loops run at once. */
export function useFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** Runs kvmctl while fake time moves on, so poll loops finish without real waiting. */
export async function runTimed(argv: string[], runner: FakeRunner, o: TestOptions = {}) {
  let done = false;
  const p = runKvmctl(argv, runner, o).finally(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(250);
  return p;
}

// ---- a wait's look at the addresses of the recorded running VM fxvm-web (52:54:00:f1:00:01 on default) ----

const WEB_INFO = recorded('vm/virsh-dominfo-web.txt');
const WEB_UUID = /^UUID:\s+(\S+)$/m.exec(WEB_INFO)?.[1] ?? '';
const WEB_ID = Number(/^Id:\s+(\d+)$/m.exec(WEB_INFO)?.[1]);

/** When the recorded lease of fxvm-web's NIC was made: its expiry (local time, as virsh prints it) minus dnsmasq's hour. */
export const WEB_LEASE_MADE_MS =
  Date.parse(parseDhcpLeases(recorded('vm/virsh-net-dhcp-leases-default.txt')).find((l) => l.mac === '52:54:00:f1:00:01')?.expiryTime ?? '') - 3600_000;

/** The reads of a wait's first look at NAME's addresses (infoTimes: dominfo after a start too): dominfo (id, uuid), the live XML (NICs), the default network's XML (lease time). */
export function firstLook(runner: FakeRunner, name: string, times = 1, infoTimes = times): FakeRunner {
  runner.stub(virshArgv('dominfo', '--domain', name), { stdout: WEB_INFO }, infoTimes).stub(virshArgv('dumpxml', '--domain', name), { stdout: recorded('vm/virsh-dumpxml-web.xml') }, times);
  return stubBatch(runner, [networkCalls.dumpxml('default')], [readFileSync('test/fixtures/recorded/virsh-net-dumpxml-default.xml', 'utf8')], '', times);
}

/** The leases of the default network, as every look reads them (one batch). */
export const LEASES = batchArgv([networkCalls.dhcpLeases('default')]);
/** With fxvm-web's lease. */
export const LEASED = { stdout: recorded('vm/virsh-net-dhcp-leases-default.txt') };
/** Leases of other guests only (another recording of the default network): none for fxvm-web's NIC. */
export const NOT_LEASED = { stdout: readFileSync('test/fixtures/recorded/virsh-net-dhcp-leases-default.txt', 'utf8') };

/** kvmctl's record of having started the recorded run of fxvm-web at this time. */
export function recordRun(stateDir: string, startedAtMs: number): Promise<void> {
  return writeBootRecord(stateDir, URI, WEB_UUID, { id: WEB_ID, startedAtMs });
}
