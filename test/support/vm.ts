/**
 * The vm lab's recordings (test/fixtures/recorded/vm, see its record.sh) as
 * the reads of `kvmctl vm` verbs: pools, domain lists, vm info.
 */
import { expect } from 'vitest';
import type { FakeRunner } from '../../src/exec/fake.js';
import { recorded, stubBatch } from './harness.js';

/** The pool directory of the recordings. */
export const POOL_DIR = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool';

/** What `vm create`'s loadPools batch reads for a pool, answered with the recordings. */
export function poolWords(pool: string): string[][] {
  return [
    ['pool-info', '--pool', pool],
    ['pool-dumpxml', '--pool', pool],
    ['vol-list', '--pool', pool],
  ];
}

export function recordedPoolOutputs(): string[] {
  return [recorded('vm/virsh-pool-info.txt'), recorded('vm/virsh-pool-dumpxml.xml'), recorded('vm/virsh-vol-list.txt')];
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
    recorded('vm/virsh-dumpxml-off-inactive.xml'),
    recorded('vm/virsh-dominfo-off.txt'),
    recorded('vm/virsh-domstate-off.txt'),
    recorded('vm/virsh-domstats-block-off.txt'),
    recorded('vm/virsh-snapshot-list-off.txt'),
    recorded('vm/virsh-net-list-all.txt'),
    recorded('vm/virsh-snapshot-current-off.txt'),
  ]);
  return runner;
}

/** What the recordings say of the running VM fxvm-web, as vm list and vm info print it. */
export const RECORDED_WEB = { name: 'fxvm-web', state: 'running', vcpus: 1, memoryBytes: 256 * 1024 ** 2, maxMemoryBytes: 256 * 1024 ** 2, autostart: false } as const;

/** fxvm-web's address in the recorded leases of the default network. */
export const RECORDED_WEB_LEASE = { address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24, mac: '52:54:00:f1:00:01', source: 'lease' };
