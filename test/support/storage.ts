/**
 * Storage states recorded from a lab (test/fixtures/recorded/storage/STATE,
 * made by its record.sh): stubStorage answers kvmctl's pool, volume and
 * domain reads with what virsh printed for that state, batched exactly as the
 * code batches them. What each state holds is said in record.sh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRunner } from '../../src/exec/fake.js';
import { parseVolList } from '../../src/libvirt/storage.js';
import { chunkBatch, splitBatch } from '../../src/libvirt/virsh.js';
import { streamCommand } from '../../src/libvirt/virsh-session.js';
import type { FileFacts, StorageFiles } from '../../src/storage/local-files.js';
import { batchArgv, batchStdout, recorded, URI } from './harness.js';

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

/** A recorded stream's stdout and stderr (scale/dumpxml-stream.*), without the `# ` lines naming the command. */
const streamRecording = (ext: string) => recorded(`scale/dumpxml-stream.${ext}`).replace(/^# .*\n/gm, '');
/** Commands a round of a stream (src/libvirt/virsh-client.ts). */
const STREAM_ROUND = 1000;

/**
 * Stubs a read batch as Virsh.batch with oneProcess runs it: a batch that
 * fits one argument as one; a longer one as a stream, one interactive virsh
 * fed a round of up to 1000 command lines at a time. Each round is answered
 * in the form recorded in scale/dumpxml-stream.txt: virsh's banner (the first
 * round), then for each line the prompt, its echo and the command's output,
 * then the round's fence on both streams.
 */
export function stubOneProcess(runner: FakeRunner, commands: string[][], outputs: string[], o: { uri?: string; stderr?: string } = {}): FakeRunner {
  const uri = o.uri ?? URI;
  if (chunkBatch(commands).length <= 1) return stubChunked(runner, commands, outputs, { uri });
  const out = streamRecording('txt');
  const banner = out.slice(0, out.indexOf('virsh # '));
  const cmd = streamCommand(uri);
  return runner.stubConversation([cmd.program, ...cmd.args], (input, round) => {
    const lines = input.split('\n').filter((l) => l !== '');
    const fence = lines.pop() ?? '';
    const end = /'(KVMCTL-[0-9a-f]+)'-'(F\d+)'$/.exec(fence);
    if (!end) throw new Error(`stream round ${round} does not end with a fence: ${fence}`);
    const mark = `${end[1]}-${end[2]}\n`;
    const answers = outputs.slice(round * STREAM_ROUND, round * STREAM_ROUND + lines.length);
    const stdout = (round === 0 ? banner : '') + lines.map((l, i) => `virsh # ${l}\n${answers[i] ?? '\n'}`).join('') + `virsh # ${fence}\n\n${mark}`;
    return { stdout, stderr: (round === 0 ? (o.stderr ?? '') : '') + `error: ${mark}` };
  }, Math.ceil(commands.length / STREAM_ROUND));
}

/**
 * A VM's recorded XML; in users1000, where only some are recorded, the others
 * are vm0's with its name and disk file changed (the state defines them alike).
 */
export function domainXml(state: StorageStateName, vm: string): string {
  if (existsSync(join(ROOT, state, `dumpxml-${vm}.xml`)) || state !== 'users1000') return read(state, `dumpxml-${vm}.xml`);
  return read(state, 'dumpxml-vm0.xml')
    .replace('<name>vm0</name>', `<name>${vm}</name>`)
    .replace('/pools/p/vm0.qcow2', `/pools/p/${vm}.qcow2`);
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
  /** With users: the VMs domstats answers for whose readonly disks are wanted (their XML, after that of `users`). */
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
    if (times === 1) stubOneProcess(runner, vols.map(({ p, v }) => ['vol-dumpxml', '--pool', p, '--vol', v]), outputs, { uri });
    else stubChunked(runner, vols.map(({ p, v }) => ['vol-dumpxml', '--pool', p, '--vol', v]), outputs, { uri, times });
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

/** loadDiskUses: domstats --block --backing, then the XML of the VMs in xmlOf and of those in readonlyOf (for their readonly disks). */
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
    const vms = [...asked, ...flagged];
    if (times === 1) stubOneProcess(runner, vms.map((d) => ['dumpxml', '--domain', d]), vms.map((d) => domainXml(state, d)), { uri });
    else stubChunked(runner, vms.map((d) => ['dumpxml', '--domain', d]), vms.map((d) => domainXml(state, d)), { uri, times });
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
