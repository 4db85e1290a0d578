/**
 * What the tests of vm verbs that read a VM's state share: the domstate argv
 * and its recorded answers, answers that change from call to call, and fake
 * time for the verbs that poll.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { readFileSync } from 'node:fs';
import { recorded, runKvmctl, stubBatch, virshArgv, type VmTestOptions } from '../../vm-harness.js';

export const STATE = (name: string) => virshArgv('domstate', '--domain', name, '--reason');
export const RUNNING = { stdout: recorded('virsh-domstate-web.txt') };
export const SHUTOFF = { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-shutdown.txt', 'utf8') };
export const PAUSED = { stdout: recorded('virsh-domstate-paused.txt') };
export const NOT_FOUND = { exitCode: 1, stderr: recorded('err-virsh-domifaddr-nosuch.stderr') };

/** The reads of vm start's base-image check on a host with no other VMs and no pools. */
export function emptyInventory(runner: FakeRunner): FakeRunner {
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], ['', '']);
  return stubBatch(runner, [['pool-list', '--all', '--name']], ['']);
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
export async function runTimed(argv: string[], runner: FakeRunner, o: VmTestOptions = {}) {
  let done = false;
  const p = runKvmctl(argv, runner, o).finally(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(250);
  return p;
}
