/**
 * Test harness for pool and volume commands: a Context over a FakeRunner, and
 * stubs that answer kvmctl's storage reads (pool and volume batches, domains)
 * in virsh's own output formats.
 */
import { readFileSync } from 'node:fs';
import { FakeRunner } from '../../src/exec/fake.js';
import { chunkBatch, virshBatch } from '../../src/libvirt/virsh.js';
import { readonlyCall } from '../../src/libvirt/disk-uses.js';
import type { FileFacts, StorageFiles } from '../../src/storage/local-files.js';
import { batchStdout } from '../support/harness.js';

// The shared harness; this file keeps what only the storage tests use, until they move to it.
export { testContext, URI, type TestOptions as TestContextOptions } from '../support/harness.js';
import { URI } from '../support/harness.js';

export interface FakeVolume {
  name: string;
  format?: string;
  capacity?: number;
  allocation?: number;
  backing?: { path: string; format: string };
}

export interface FakePool {
  name: string;
  type?: string;
  state?: 'running' | 'inactive';
  autostart?: boolean;
  path?: string;
  available?: number;
  volumes?: FakeVolume[];
  /** Raw <source> inner XML. */
  sourceXml?: string;
}

export interface FakeDomain {
  name: string;
  /** libvirt state number: 1 running, 5 shut off. */
  state: 1 | 5;
  disks: Array<{ file?: string; pool?: string; volume?: string; target: string; readonly?: boolean; format?: string }>;
}

export const pathOf = (p: FakePool, v: string) => `${p.path ?? `/pools/${p.name}`}/${v}`;

export function batchArgv(uri: string, commands: string[][], mutates = false): string[] {
  const c = virshBatch(uri, commands, mutates);
  return [c.program, ...c.args];
}

export const batchOut = batchStdout;

/** Stubs a read batch as runVirshBatch runs it: one virsh process per chunk of the argument limit, each answering its part. */
export function stubChunked(runner: FakeRunner, uri: string, commands: string[][], outputs: string[], times = 1): FakeRunner {
  let at = 0;
  for (const chunk of chunkBatch(commands)) {
    runner.stub(batchArgv(uri, chunk), { stdout: batchOut(outputs.slice(at, at + chunk.length)) }, times);
    at += chunk.length;
  }
  return runner;
}

function poolInfo(p: FakePool): string {
  return `Name:           ${p.name}\nUUID:           00000000-0000-0000-0000-000000000000\nState:          ${p.state ?? 'running'}\nPersistent:     yes\nAutostart:      ${p.autostart ? 'yes' : 'no'}\n\n`;
}

function poolXml(p: FakePool): string {
  const active = (p.state ?? 'running') === 'running';
  const avail = active ? (p.available ?? 100 * 2 ** 30) : 0;
  return [
    `<pool type='${p.type ?? 'dir'}'>`,
    `  <name>${p.name}</name>`,
    `  <capacity unit='bytes'>${active ? 200 * 2 ** 30 : 0}</capacity>`,
    `  <allocation unit='bytes'>0</allocation>`,
    `  <available unit='bytes'>${avail}</available>`,
    `  <source>${p.sourceXml ?? ''}</source>`,
    `  <target><path>${p.path ?? `/pools/${p.name}`}</path></target>`,
    `</pool>`,
    '',
  ].join('\n');
}

function volList(p: FakePool): string {
  if ((p.state ?? 'running') !== 'running') return '';
  const vols = p.volumes ?? [];
  const width = Math.max(4, ...vols.map((v) => v.name.length));
  const rows = vols.map((v) => ` ${v.name.padEnd(width)}   ${pathOf(p, v.name)}`);
  return [` ${'Name'.padEnd(width)}   Path`, '-'.repeat(40), ...rows, '', ''].join('\n');
}

/**
 * virsh 9's `complete -- vol-info --pool P --vol ''` in a batch (recorded in the lab): a name a line, a space
 * escaped with a backslash, then an empty line; a blank line for a pool without volumes (or an inactive one).
 */
function volNames(p: FakePool): string {
  const vols = (p.state ?? 'running') === 'running' ? (p.volumes ?? []) : [];
  return vols.length === 0 ? '\n' : vols.map((v) => v.name.replace(/ /g, '\\ ') + '\n').join('') + '\n';
}

function volXml(p: FakePool, v: FakeVolume): string {
  return [
    `<volume type='file'>`,
    `  <name>${v.name}</name>`,
    `  <key>${pathOf(p, v.name)}</key>`,
    `  <capacity unit='bytes'>${v.capacity ?? 2 ** 30}</capacity>`,
    `  <allocation unit='bytes'>${v.allocation ?? 200704}</allocation>`,
    `  <target><path>${pathOf(p, v.name)}</path><format type='${v.format ?? 'qcow2'}'/></target>`,
    v.backing ? `  <backingStore><path>${v.backing.path}</path><format type='${v.backing.format}'/></backingStore>` : '',
    `</volume>`,
    '',
  ].join('\n');
}

function domainXml(d: FakeDomain): string {
  const disks = d.disks.map((k) =>
    k.pool
      ? `<disk type='volume' device='disk'><source pool='${k.pool}' volume='${k.volume}'/><target dev='${k.target}'/>${k.readonly ? '<readonly/>' : ''}</disk>`
      : `<disk type='file' device='disk'>${k.format ? `<driver name='qemu' type='${k.format}'/>` : ''}<source file='${k.file}'/><target dev='${k.target}'/>${k.readonly ? '<readonly/>' : ''}</disk>`,
  );
  return `<domain type='qemu'><name>${d.name}</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>${disks.join('')}</devices></domain>\n`;
}

export interface StorageState {
  pools: FakePool[];
  domains?: FakeDomain[];
  uri?: string;
}

/**
 * Stubs the reads of readStorage/loadPools/loadVolumes/loadDomains for this
 * state. `only` limits loadPools to named pools (no pool-list call);
 * volumes: false / domains: false leave out the volume XML / domain reads.
 */
export function stubStorage(runner: FakeRunner, s: StorageState, o: { only?: string[]; domains?: boolean; volumes?: boolean; times?: number; users?: string[]; readonlyOf?: string[]; namesOnly?: boolean } = {}): FakeRunner {
  const uri = s.uri ?? URI;
  const times = o.times ?? 1;
  const names = o.only ?? s.pools.map((p) => p.name);
  if (!o.only) runner.stub(batchArgv(uri, [['pool-list', '--all', '--name']]), { stdout: s.pools.map((p) => `${p.name}   \n`).join('') + '\n' }, times);
  const pools = names.map((n) => s.pools.find((p) => p.name === n));
  if (names.length > 0) runner.stub(
    batchArgv(uri, names.flatMap((p) => [['pool-info', '--pool', p], ['pool-dumpxml', '--pool', p], o.namesOnly ? ['complete', '--', 'vol-info', '--pool', p, '--vol', ''] : ['vol-list', '--pool', p]])),
    { stdout: batchOut(pools.flatMap((p) => (p ? [poolInfo(p), poolXml(p), o.namesOnly ? volNames(p) : volList(p)] : ['', '', '']))) },
    times,
  );
  const vols = pools.flatMap((p) => (p && (p.state ?? 'running') === 'running' ? (p.volumes ?? []).map((v) => ({ p, v })) : []));
  if (vols.length > 0 && o.volumes !== false) {
    stubChunked(runner, uri, vols.map(({ p, v }) => ['vol-dumpxml', '--pool', p.name, '--vol', v.name]), vols.map(({ p, v }) => volXml(p, v)), times);
  }
  if (o.users !== undefined) stubDiskUses(runner, s.domains ?? [], o.users, uri, times, o.readonlyOf);
  else if (o.domains !== false) stubDomains(runner, s.domains ?? [], uri, times);
  return runner;
}

/**
 * The reads of readStorage's `users` mode: `domstats --state --block --backing` (a file
 * disk has a path and a physical size, a volume disk neither, as libvirt
 * prints them for VMs that are not running), then dumpxml of the VMs named in
 * `xmlOf` only and, in the same batch, the readonly targets (dumpxml --xpath,
 * as virsh prints them) of those in `readonlyOf`.
 */
export function stubDiskUses(runner: FakeRunner, domains: FakeDomain[], xmlOf: string[], uri = URI, times = 1, readonlyOf: string[] = []): FakeRunner {
  const block = (d: FakeDomain) =>
    [`  block.count=${d.disks.length}`, ...d.disks.flatMap((k, i) => [`  block.${i}.name=${k.target}`, ...(k.file ? [`  block.${i}.path=${k.file}`, `  block.${i}.physical=196616`] : [])])].join('\n');
  runner.stub(
    batchArgv(uri, [['domstats', '--raw', '--state', '--block', '--backing'], ['list', '--all', '--autostart', '--name']]),
    { stdout: batchOut([domains.map((d) => `Domain: '${d.name}'\n  state.state=${d.state}\n  state.reason=1\n${block(d)}\n\n`).join(''), '\n']) },
    times,
  );
  const asked = domains.filter((d) => xmlOf.includes(d.name));
  const flagged = domains.filter((d) => readonlyOf.includes(d.name));
  const readonlyTargets = (d: FakeDomain) => ` type="qemu"\n${d.disks.filter((k) => k.readonly).map((k) => ` dev="${k.target}"\n`).join('')}\n`;
  if (asked.length + flagged.length > 0) {
    stubChunked(runner, uri, [...asked.map((d) => ['dumpxml', '--domain', d.name]), ...flagged.map((d) => readonlyCall(d.name))], [...asked.map(domainXml), ...flagged.map(readonlyTargets)], times);
  }
  return runner;
}

export function stubDomains(runner: FakeRunner, domains: FakeDomain[], uri = URI, times = 1): FakeRunner {
  runner.stub(
    batchArgv(uri, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']]),
    { stdout: batchOut([domains.map((d) => `Domain: '${d.name}'\n  state.state=${d.state}\n  state.reason=1\n\n`).join(''), '\n']) },
    times,
  );
  if (domains.length > 0) {
    stubChunked(runner, uri, domains.map((d) => ['dumpxml', '--domain', d.name]), domains.map(domainXml), times);
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

/** virsh's stderr when a command fails, e.g. ("vol-create", "storage volume 'x' exists already"). */
export function virshFailure(message: string) {
  return { exitCode: 1, stderr: `error: ${message}\n` };
}

export const GiB = 2 ** 30;
const IMAGES = new URL('../fixtures/recorded/storage/images/', import.meta.url);
/** A recorded image file (test/fixtures/recorded/storage/images, see its README). */
export const fixture = (name: string) => readFileSync(new URL(name, IMAGES));

/** Pool "p" at /pools/p with these volumes. */
export const pool = (volumes: FakePool['volumes'] = [], extra: Partial<FakePool> = {}): FakePool => ({ name: 'p', path: '/pools/p', volumes, ...extra });
export const argvIs = (...argv: string[]) => argv;
export const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];

/** The exit code and message a run ends with (0 and '' when it succeeds). */
export { outcome as codeOf } from '../support/harness.js';

/** The commands that changed state, as argv lines. */
export function writes(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.mutates).map((c) => [c.program, ...c.args].join(' '));
}

/** Pool p with a base and its overlay; web.qcow2 used by running VM web, old.qcow2 by shut-off VM old. */
export const inUse: StorageState = {
  pools: [pool([{ name: 'base.qcow2' }, { name: 'o.qcow2', backing: { path: '/pools/p/base.qcow2', format: 'qcow2' } }, { name: 'web.qcow2' }, { name: 'old.qcow2' }])],
  domains: [
    { name: 'web', state: 1, disks: [{ file: '/pools/p/web.qcow2', target: 'vda' }] },
    { name: 'old', state: 5, disks: [{ pool: 'p', volume: 'old.qcow2', target: 'vdb' }] },
  ],
};
