/**
 * Test harness for `kvmctl vm`: a Context over a FakeRunner and an in-memory
 * filesystem, recorded virsh output (test/fixtures/recorded/vm), and stubs for
 * one-process virsh batches built exactly as the code builds them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeRunner } from '../../src/exec/fake.js';
import { testContext, type TestOptions } from '../support/harness.js';

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
