/**
 * Test harness for `kvmctl vm`: a Context over a FakeRunner and an in-memory
 * filesystem, recorded virsh output (test/fixtures/recorded/vm), and stubs for
 * one-process virsh batches built exactly as the code builds them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeRunner } from '../../src/exec/fake.js';
import { expect } from 'vitest';
import { stubBatch, testContext, type TestOptions } from '../support/harness.js';

// The shared harness; this file keeps what only the vm tests use, until they move to it.
export { batchArgv, batchStdout, callOf, mutations, runKvmctl, short, stubBatch, URI, virshArgv } from '../support/harness.js';
export type VmTestOptions = TestOptions;

/** The pool directory of the recordings. */
export const POOL_DIR = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool';

export function recorded(file: string): string {
  return readFileSync(join('test/fixtures/recorded/vm', file), 'utf8');
}

export function recordedTop(file: string): string {
  return readFileSync(join('test/fixtures/recorded', file), 'utf8');
}

export function vmContext(runner: FakeRunner, o: VmTestOptions = {}): ReturnType<typeof testContext> {
  return testContext(runner, o);
}

/** What `vm create`'s loadPools batch reads for a pool, answered with the recordings. */
export function poolWords(pool: string): string[][] {
  return [
    ['pool-info', '--pool', pool],
    ['pool-dumpxml', '--pool', pool],
    ['vol-list', '--pool', pool],
  ];
}

export function recordedPoolOutputs(): string[] {
  return [recorded('virsh-pool-info.txt'), recorded('virsh-pool-dumpxml.xml'), recorded('virsh-vol-list.txt')];
}

/** loadDomains' two reads: domstats + autostart list, then every domain's XML. */
export function stubDomainList(runner: FakeRunner, domains: Array<{ name: string; state: number; xml: string }>): FakeRunner {
  const stats = domains.map((d) => `Domain: '${d.name}'\n  state.state=${d.state}\n  state.reason=0\n\n`).join('');
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], [stats, '\n']);
  if (domains.length > 0) stubBatch(runner, domains.map((d) => ['dumpxml', '--domain', d.name]), domains.map((d) => d.xml));
  return runner;
}

/** The reads of `vm info NAME` (one virsh batch), in its order. */
export function infoWords(name: string): string[][] {
  return [
    ['dumpxml', '--domain', name],
    ['dominfo', '--domain', name],
    ['domstate', '--domain', name, '--reason'],
    ['domstats', '--raw', '--block', '--', name],
    ['snapshot-list', '--domain', name, '--parent'],
    ['net-list', '--all'],
    ['snapshot-current', '--domain', name, '--name'],
  ];
}

/** `vm info fxvm-off` as recorded: the shut-off VM with two snapshots. */
export function stubOffVmInfo(runner: FakeRunner): FakeRunner {
  stubBatch(runner, infoWords('fxvm-off'), [
    recorded('virsh-dumpxml-off-inactive.xml'),
    recorded('virsh-dominfo-off.txt'),
    recorded('virsh-domstate-off.txt'),
    recorded('virsh-domstats-block-off.txt'),
    recorded('virsh-snapshot-list-off.txt'),
    recorded('virsh-net-list-all.txt'),
    recorded('virsh-snapshot-current-off.txt'),
  ]);
  return runner;
}

/** What the recordings say of the running VM fxvm-web, as vm list and vm info print it. */
export const RECORDED_WEB = { name: 'fxvm-web', state: 'running', vcpus: 1, memoryBytes: 256 * 1024 ** 2, maxMemoryBytes: 256 * 1024 ** 2, autostart: false } as const;

/** fxvm-web's address in the recorded leases of the default network. */
export const RECORDED_WEB_LEASE = { address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24, mac: '52:54:00:f1:00:01', source: 'lease' };
