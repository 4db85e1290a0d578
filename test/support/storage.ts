/**
 * Storage states recorded from a lab (test/fixtures/recorded/storage/STATE,
 * made by its record.sh): stubStorage answers kvmctl's pool, volume and
 * domain reads with what virsh printed for that state, batched exactly as the
 * code batches them. What each state holds is said in record.sh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRunner } from '../../src/exec/fake.js';
import { readonlyCall } from '../../src/libvirt/disk-uses.js';
import { parseVolList } from '../../src/libvirt/storage.js';
import { chunkBatch, splitBatch } from '../../src/libvirt/virsh.js';
import type { FileFacts, StorageFiles } from '../../src/storage/local-files.js';
import { batchArgv, batchStdout, URI } from './harness.js';

export type StorageStateName = 'inuse' | 'empty' | 'pair' | 'pair-used' | 'pair-used-off' | 'chain' | 'big' | 'users3' | 'users1000' | 'dirpool' | 'mixed' | 'testdriver';

const ROOT = 'test/fixtures/recorded/storage';
const read = (state: string, file: string) => readFileSync(join(ROOT, state, file), 'utf8');
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** What a recorded state holds, by name: pools (as pool-list lists them), their volumes, the domains in domstats' order. */
export function recordedState(state: StorageStateName) {
  const pools = lines(read(state, 'pool-list.txt'));
  const volumes = (pool: string) => parseVolList(read(state, `vol-list-${pool}.txt`)).map((v) => v.name);
  const domains = [...read(state, 'domstats-state.txt').matchAll(/^Domain: '(.*)'$/gm)].map((m) => m[1] as string);
  return { pools, volumes, domains };
}

/** A recorded file of a state, e.g. ('chain', 'over.qcow2.head'). */
export const storageFile = (state: StorageStateName, file: string): Buffer => readFileSync(join(ROOT, state, file));

/** The directory of a recorded pool, as its pool-dumpxml says. */
export function poolPath(state: StorageStateName, pool: string): string {
  const m = /<target>\s*<path>([^<]*)<\/path>/.exec(read(state, `pool-dumpxml-${pool}.xml`));
  if (!m) throw new Error(`no target path in ${state}/pool-dumpxml-${pool}.xml`);
  return m[1] as string;
}

/** The bytes a recorded pool has free (pool-dumpxml's available). */
export function poolAvailable(state: StorageStateName, pool: string): number {
  return Number(/<available unit='bytes'>(\d+)</.exec(read(state, `pool-dumpxml-${pool}.xml`))?.[1]);
}

function volumeOutputs(state: StorageStateName, pool: string, names: string[]): string[] {
  const batch = `vol-dumpxml-${pool}.batch.txt`;
  if (existsSync(join(ROOT, state, batch))) return splitBatch(read(state, batch), names.length);
  return names.map((v) => read(state, `vol-dumpxml-${pool}-${v}.xml`));
}

/**
 * Stubs a batch as runVirshBatch runs it: one virsh process per chunk of
 * BATCH_ARG_BYTES (chunkBatch), each answering its part of the outputs.
 */
export function stubChunked(runner: FakeRunner, commands: string[][], outputs: string[], o: { uri?: string; times?: number } = {}): FakeRunner {
  let at = 0;
  for (const chunk of chunkBatch(commands)) {
    runner.stub(batchArgv(chunk, o.uri ?? URI), { stdout: batchStdout(outputs.slice(at, at + chunk.length)) }, o.times ?? 1);
    at += chunk.length;
  }
  return runner;
}

/**
 * What virsh 9 prints for `complete -- vol-info --pool P --vol ''` inside a
 * batch, rendered from the state's recorded vol-list names (the states hold no
 * recorded completion; re-recording with record.sh should add it). The format
 * is that of the lab recording complete-vol-names-batch.txt: a name a line, a
 * space escaped with a backslash (nothing else escaped), then an empty line;
 * a pool without volumes a blank line. An inactive pool's section is not
 * read by loadPools; it is rendered as a blank line too.
 */
export function completedVolumeNames(names: string[]): string {
  return names.map((n) => n.replace(/ /g, '\\ ') + '\n').join('') + '\n';
}

const isActive = (state: StorageStateName, pool: string) => !/^State:\s+inactive$/m.test(read(state, `pool-info-${pool}.txt`));

export interface StubStorageOptions {
  /** loadPools of these pools only (no pool-list call). */
  only?: string[];
  /** false: no domain reads. */
  domains?: boolean;
  /** false: no volume XML reads. */
  volumes?: boolean;
  /** readStorage's `users` mode: domstats --block --backing, then the XML of these VMs. */
  users?: string[];
  /** With users: the VMs whose readonly disks are asked (dumpxml --xpath). */
  readonlyOf?: string[];
  /** loadPools' namesOnly: volume names by completion (`complete -- vol-info`) instead of vol-list. */
  namesOnly?: boolean;
  uri?: string;
  times?: number;
}

/** Stubs the reads of readStorage (loadPools, loadVolumes, loadDomains or loadDiskUses) with a recorded state. */
export function stubStorage(runner: FakeRunner, state: StorageStateName, o: StubStorageOptions = {}): FakeRunner {
  const uri = o.uri ?? URI;
  const times = o.times ?? 1;
  const s = recordedState(state);
  const pools = o.only ?? s.pools;
  if (!o.only) runner.stub(batchArgv([['pool-list', '--all', '--name']], uri), { stdout: read(state, 'pool-list.txt') }, times);
  if (pools.length > 0) {
    const volumesCall = (p: string) => (o.namesOnly ? ['complete', '--', 'vol-info', '--pool', p, '--vol', ''] : ['vol-list', '--pool', p]);
    const volumesOut = (p: string) => (!o.namesOnly ? read(state, `vol-list-${p}.txt`) : completedVolumeNames(isActive(state, p) ? s.volumes(p) : []));
    // A pool the state lacks (asked by name): virsh prints nothing on stdout for any of its commands.
    const outputs = (p: string) => (s.pools.includes(p) ? [read(state, `pool-info-${p}.txt`), read(state, `pool-dumpxml-${p}.xml`), volumesOut(p)] : ['', '', '']);
    stubChunked(runner, pools.flatMap((p) => [['pool-info', '--pool', p], ['pool-dumpxml', '--pool', p], volumesCall(p)]), pools.flatMap(outputs), { uri, times });
  }
  const present = pools.filter((p) => s.pools.includes(p));
  const vols = present.flatMap((p) => s.volumes(p).map((v) => ({ p, v })));
  if (vols.length > 0 && o.volumes !== false) {
    const outputs = present.flatMap((p) => volumeOutputs(state, p, s.volumes(p)));
    stubChunked(runner, vols.map(({ p, v }) => ['vol-dumpxml', '--pool', p, '--vol', v]), outputs, { uri, times });
  }
  if (o.users !== undefined) stubDiskUses(runner, state, o.users, { uri, times, readonlyOf: o.readonlyOf });
  else if (o.domains !== false) stubDomains(runner, state, { uri, times });
  return runner;
}

/** loadDomains: domstats + autostart list, then every domain's XML in domstats' order. */
export function stubDomains(runner: FakeRunner, state: StorageStateName, o: { uri?: string; times?: number } = {}): FakeRunner {
  const uri = o.uri ?? URI;
  const { domains } = recordedState(state);
  runner.stub(batchArgv([['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], uri), { stdout: batchStdout([read(state, 'domstats-state.txt'), read(state, 'list-autostart.txt')]) }, o.times ?? 1);
  if (domains.length > 0) {
    stubChunked(runner, domains.map((d) => ['dumpxml', '--domain', d]), domains.map((d) => read(state, `dumpxml-${d}.xml`)), { uri, times: o.times });
  }
  return runner;
}

/** loadDiskUses: domstats --block --backing, then the XML of the VMs in xmlOf and the readonly targets of those in readonlyOf. */
export function stubDiskUses(runner: FakeRunner, state: StorageStateName, xmlOf: string[], o: { uri?: string; times?: number; readonlyOf?: string[] } = {}): FakeRunner {
  const uri = o.uri ?? URI;
  const times = o.times ?? 1;
  const readonlyOf = o.readonlyOf ?? [];
  const { domains } = recordedState(state);
  runner.stub(
    batchArgv([['domstats', '--raw', '--state', '--block', '--backing'], ['list', '--all', '--autostart', '--name']], uri),
    { stdout: batchStdout([read(state, 'domstats-state-block-backing.txt'), read(state, 'list-autostart.txt')]) },
    times,
  );
  const asked = domains.filter((d) => xmlOf.includes(d));
  const flagged = domains.filter((d) => readonlyOf.includes(d));
  if (asked.length + flagged.length > 0) {
    stubChunked(
      runner,
      [...asked.map((d) => ['dumpxml', '--domain', d]), ...flagged.map((d) => readonlyCall(d))],
      [...asked.map((d) => read(state, `dumpxml-${d}.xml`)), ...flagged.map((d) => read(state, `readonly-${d}.txt`))],
      { uri, times },
    );
  }
  return runner;
}

/** A StorageFiles over a map of path -> facts (and header bytes). */
export function fakeFiles(files: Record<string, Partial<FileFacts> & { header?: Buffer; uses?: string[] }> = {}, links: Record<string, string> = {}): StorageFiles {
  return {
    header: async (p, len) => (files[p]?.header ?? Buffer.alloc(0)).subarray(0, len),
    stat: async (p) => {
      const f = files[p];
      return f ? { kind: f.kind ?? 'file', sizeBytes: f.sizeBytes ?? 0, allocatedBytes: f.allocatedBytes ?? 0 } : undefined;
    },
    resolve: async (p) => {
      for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(from + '/')) return to + p.slice(from.length);
      return p;
    },
    deviceUses: async (p) => files[p]?.uses ?? [],
  };
}

export const GiB = 2 ** 30;
const IMAGES = new URL('../fixtures/recorded/storage/images/', import.meta.url);
/** A recorded image file (test/fixtures/recorded/storage/images, see its README). */
export const fixture = (name: string) => readFileSync(new URL(name, IMAGES));

/** The commands that changed state, as argv lines. */
export function writes(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.mutates).map((c) => [c.program, ...c.args].join(' '));
}
