import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { diskUsesOf, fromStats, loadDiskUses, readonlyTargetsOf } from '../../../src/libvirt/disk-uses.js';
import { parseDomainXml } from '../../../src/libvirt/domain-xml.js';
import { parseDomstats } from '../../../src/libvirt/domstats.js';
import { chunkBatch } from '../../../src/libvirt/virsh.js';
import { runVolumeList } from '../../../src/commands/volume/list.js';
import { batchArgv, batchStdout as batchOut, testContext, URI } from '../../support/harness.js';
import { recordedState, stubStorage } from '../../support/storage.js';

const SCALE = new URL('../../fixtures/recorded/scale/', import.meta.url);
/** A recording without its comment lines (the command that made it). */
const recorded = (name: string) =>
  readFileSync(new URL(name, SCALE), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('# '))
    .join('\n');

const P = '/var/tmp/kvmctl-lab/blab/pools/fx-uses';
const STATS = recorded('domstats-state-block.txt');
const KINDS_XML = recorded('dumpxml-kinds.xml');
const byName = (name: string) => parseDomstats(STATS).find((s) => s.name === name)!;
const listed = (paths: string[], dirs: string[] = []) => ({ has: (p: string) => paths.includes(p) || dirs.includes(p), isDirectory: (p: string) => dirs.includes(p) });

describe('fromStats: what domstats alone may answer for USED BY', () => {
  it('a shut-off VM whose listed disk is a local file: target and path, no XML needed', () => {
    expect(fromStats(byName('fx-uses-off'), listed([`${P}/off.qcow2`]))).toEqual([{ vm: 'fx-uses-off', state: 'shutoff', target: 'vda', path: `${P}/off.qcow2` }]);
  });

  it('a shut-off VM none of whose disks is listed uses nothing', () => {
    expect(fromStats(byName('fx-uses-off'), listed([`${P}/other.qcow2`]))).toEqual([]);
  });

  it('a running VM is read (a volume disk of a running VM shows its translated path)', () => {
    expect(fromStats(byName('fx-uses-run'), listed([`${P}/run.qcow2`]))).toBeUndefined();
    expect(fromStats(byName('fx-uses-run'), listed([]))).toBeUndefined();
  });

  it('a VM with a disk domstats gives no path for (volume, network, empty CD-ROM) is read', () => {
    // vdb is <disk type='volume'>, hdb an http CD-ROM, hdc empty: none has block.N.path.
    expect(fromStats(byName('fx-uses-kinds'), listed([]))).toBeUndefined();
  });

  it('a listed path without a physical size (a dir disk, a missing file) or a subdirectory volume needs the XML', () => {
    const missing = { name: 'm', stats: { 'state.state': '5', 'block.count': '1', 'block.0.name': 'vdd', 'block.0.path': `${P}/missing.img` } };
    expect(fromStats(missing, listed([`${P}/missing.img`]))).toBeUndefined();
    const dirLike = { ...byName('fx-uses-off') };
    expect(fromStats(dirLike, listed([], [`${P}/off.qcow2`]))).toBeUndefined();
  });

  it('a chain written into a shut-off VM\'s XML (its target listed twice by --backing) is read', () => {
    expect(fromStats(byName('fx-uses-chain'), listed([`${P}/base.qcow2`]))).toBeUndefined();
    expect(fromStats(byName('fx-uses-chain'), listed([]))).toBeUndefined();
  });

  it('a VM whose block stats are missing altogether is read rather than taken for diskless', () => {
    expect(fromStats({ name: 'x', stats: { 'state.state': '5' } }, listed([]))).toBeUndefined();
  });
});

describe('loadDiskUses', () => {
  const first = batchArgv([['domstats', '--raw', '--state', '--block', '--backing'], ['list', '--all', '--autostart', '--name']]);
  const withoutChain = STATS.slice(0, STATS.indexOf("Domain: 'fx-uses-chain'"));

  it('reads only the VMs domstats cannot answer for, and keeps VM then disk order', async () => {
    const runner = new FakeRunner()
      .stub(first, { stdout: batchOut([withoutChain, 'fx-uses-kinds\n\n']) })
      .stub(batchArgv([['dumpxml', '--domain', 'fx-uses-run'], ['dumpxml', '--domain', 'fx-uses-kinds']]), { stdout: batchOut(['', KINDS_XML]) });
    const { uses, read } = await loadDiskUses(runner, URI, Promise.resolve(listed([`${P}/off.qcow2`])), { readonly: false });
    runner.verify();
    // Without layered, the definitions read are not kept.
    expect(read).toEqual([]);
    // fx-uses-run was undefined between the two calls (empty section): it is left out.
    expect(uses.map((u) => `${u.vm}:${u.target}`)).toEqual(['fx-uses-off:vda', 'fx-uses-kinds:vda', 'fx-uses-kinds:vdb', 'fx-uses-kinds:vdc', 'fx-uses-kinds:vdd', 'fx-uses-kinds:hdb', 'fx-uses-kinds:hdc']);
    // What the XML says of the kinds VM, exactly as every VM's XML would have said it.
    expect(uses.filter((u) => u.vm === 'fx-uses-kinds')).toEqual(diskUsesOf([{ name: 'fx-uses-kinds', state: 'shutoff', definition: await parseDomainXml(KINDS_XML) }]));
    expect(uses.find((u) => u.target === 'vdb')).toMatchObject({ pool: 'fx-uses', volume: 'off.qcow2', readonly: true, path: undefined });
  });

  it('with no VM to read, domstats is the only call; a failing domstats is an error naming it', async () => {
    const runner = new FakeRunner().stub(first, { stdout: batchOut(['', '']) });
    expect(await loadDiskUses(runner, URI, Promise.resolve(listed([])), { readonly: true })).toEqual({ uses: [], read: [] });
    expect(runner.calls).toHaveLength(1);
    const failing = new FakeRunner().stub(first, { exitCode: 1, stderr: 'error: internal error: domain list unavailable\n' });
    await expect(loadDiskUses(failing, URI, Promise.resolve(listed([])), { readonly: false })).rejects.toThrow(/could not list domains: .*domain list unavailable/);
    const unreachable = new FakeRunner().stub(first, { exitCode: 1, stderr: 'error: failed to connect to the hypervisor\n' });
    await expect(loadDiskUses(unreachable, URI, Promise.resolve(listed([])), { readonly: false })).rejects.toThrow(/cannot reach libvirt at qemu:\/\/\/system/);
  });

  it('layered: a shut-off VM whose disk header names a backing file is read, so its whole chain is known', async () => {
    const offOnly = STATS.slice(0, STATS.indexOf("Domain: 'fx-uses-run'"));
    const offXml = `<domain type='qemu'><name>fx-uses-off</name><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${P}/off.qcow2'/><target dev='vda'/></disk></devices></domain>\n`;
    const asked: string[] = [];
    const runner = new FakeRunner().stub(first, { stdout: batchOut([offOnly, '']) }).stub(batchArgv([['dumpxml', '--domain', 'fx-uses-off']]), { stdout: batchOut([offXml]) });
    const { read } = await loadDiskUses(runner, URI, Promise.resolve(listed([])), { readonly: false, layered: async (p) => (asked.push(p), true) });
    runner.verify();
    expect(asked).toEqual([`${P}/off.qcow2`]);
    expect(read.map((d) => [d.name, d.state, d.autostart, d.definition.disks[0]?.driver?.type])).toEqual([['fx-uses-off', 'shutoff', false, 'qcow2']]);
    const plain = new FakeRunner().stub(first, { stdout: batchOut([offOnly, '']) });
    expect((await loadDiskUses(plain, URI, Promise.resolve(listed([])), { readonly: false, layered: async () => false })).read).toEqual([]);
    expect(plain.calls).toHaveLength(1);
  });
});

describe('readonly flags from the VMs\' XML (recorded)', () => {
  const RO = '/var/tmp/kvmctl-lab/flab/pools/ftest';
  const roStats = recorded('domstats-readonly.txt');
  const roXml = recorded('dumpxml-readonly.xml');
  const benchXml = recorded('../storage/users3/dumpxml-vm0.xml');
  const first = batchArgv([['domstats', '--raw', '--state', '--block', '--backing'], ['list', '--all', '--autostart', '--name']]);
  const roListed = listed([`${RO}/a b`, `${RO}/amp&`, '/var/tmp/kvmctl-lab/flab/pools/bench-pool/bench-vm-0001.qcow2']);

  it('finds the readonly disks of libvirt\'s XML by their lines, and only when its disks are those domstats listed', async () => {
    expect(readonlyTargetsOf(roXml, new Set(['vda', 'vdb']))).toEqual(new Set(['vdb']));
    expect(readonlyTargetsOf(benchXml, new Set(['vda']))).toEqual(new Set());
    // The same flags the whole XML gives, for every kind of disk (a volume, a dir, a network CD-ROM, an empty one).
    const kinds = recorded('dumpxml-kinds.xml');
    const fromXml = diskUsesOf([{ name: 'k', state: 'shutoff', definition: await parseDomainXml(kinds) }]);
    expect(readonlyTargetsOf(kinds, new Set(fromXml.map((u) => u.target)))).toEqual(new Set(fromXml.filter((u) => u.readonly).map((u) => u.target)));
    // Another set of disks than domstats', an empty answer (a VM gone), or XML not laid out as libvirt writes it: parsed whole.
    expect(readonlyTargetsOf(roXml, new Set(['vda']))).toBeUndefined();
    expect(readonlyTargetsOf(roXml, new Set(['vda', 'vdb', 'vdc']))).toBeUndefined();
    expect(readonlyTargetsOf('', new Set(['vda']))).toBeUndefined();
    expect(readonlyTargetsOf(roXml.replace(/\n\s*/g, ''), new Set(['vda', 'vdb']))).toBeUndefined();
    // A second <target> in one disk is not libvirt's: parsed whole.
    expect(readonlyTargetsOf(roXml.replace("      <target dev='vdb'", "      <target dev='vdx'/>\n      <target dev='vdb'"), new Set(['vda', 'vdb']))).toBeUndefined();
  });

  it('JSON: the VMs domstats answers for are read with dumpxml, their flags taken from their disks\' lines', async () => {
    const runner = new FakeRunner()
      .stub(first, { stdout: batchOut([roStats, '']) })
      .stub(batchArgv([['dumpxml', '--domain', 'fx-uses-ro'], ['dumpxml', '--domain', 'bench-vm-0001']]), { stdout: batchOut([roXml, benchXml.replace(/vm0/g, 'bench-vm-0001')]) });
    const { uses } = await loadDiskUses(runner, URI, Promise.resolve(roListed), { readonly: true });
    runner.verify();
    expect(uses.map((u) => [u.vm, u.target, u.readonly])).toEqual([['fx-uses-ro', 'vda', false], ['fx-uses-ro', 'vdb', true], ['bench-vm-0001', 'vda', false]]);
    // The same flags the whole XML gives.
    const fromXml = diskUsesOf([{ name: 'fx-uses-ro', state: 'shutoff', definition: await parseDomainXml(roXml) }]);
    expect(uses.filter((u) => u.vm === 'fx-uses-ro').map((u) => [u.target, u.readonly, u.path])).toEqual(fromXml.map((u) => [u.target, u.readonly, u.path]));
  });

  it('a VM gone since domstats (an empty answer) uses nothing; one whose XML the lines do not answer for is parsed whole, in no more process', async () => {
    const runner = new FakeRunner()
      .stub(first, { stdout: batchOut([roStats, '']) })
      .stub(batchArgv([['dumpxml', '--domain', 'fx-uses-ro'], ['dumpxml', '--domain', 'bench-vm-0001']]), { stdout: batchOut([roXml.replace(/\n */g, '\n'), '']), stderr: "error: failed to get domain 'bench-vm-0001'\n" });
    const { uses } = await loadDiskUses(runner, URI, Promise.resolve(roListed), { readonly: true });
    runner.verify();
    expect(runner.calls).toHaveLength(2);
    expect(uses.map((u) => [u.vm, u.target, u.readonly])).toEqual([['fx-uses-ro', 'vda', false], ['fx-uses-ro', 'vdb', true]]);
  });

  it('the table (no readonly flags) asks nothing but domstats', async () => {
    const runner = new FakeRunner().stub(first, { stdout: batchOut([roStats, '']) });
    const { uses } = await loadDiskUses(runner, URI, Promise.resolve(roListed), { readonly: false });
    runner.verify();
    expect(uses.map((u) => [u.vm, u.target, u.readonly])).toEqual([['fx-uses-ro', 'vda', undefined], ['fx-uses-ro', 'vdb', undefined], ['bench-vm-0001', 'vda', undefined]]);
  });
});

describe('volume list reads who uses the volumes in a constant number of calls', () => {
  // Recorded (users3, users1000): pool p with N qcow2 files, each the disk of a shut-off VM vmI (users3: vm1's readonly).
  it.each([3, 1000] as const)('the table of %i shut-off VMs using pool files reads no VM XML', async (n) => {
    const runner = stubStorage(new FakeRunner(), `users${n}`, { only: ['p'], users: [] });
    const { ctx, io } = testContext(runner);
    await runVolumeList(ctx, { pool: 'p' });
    runner.verify();
    expect(runner.calls.map((c) => c.args.join(' ')).filter((a) => a.includes('dumpxml --domain') || a.includes("'dumpxml'"))).toEqual([]);
    // Pool details, domstats, and the volumes' XML in one process: at 1000 that batch is longer than one argument
    // (two 64 KiB batches), so it is fed to one virsh on stdin. Never one process per VM or per argument.
    const volumeBatches = chunkBatch(recordedState(`users${n}`).volumes('p').map((v) => ['vol-dumpxml', '--pool', 'p', '--vol', v])).length;
    expect(volumeBatches).toBe(n === 3 ? 1 : 2);
    expect(runner.calls).toHaveLength(3);
    expect(io.out).toMatch(new RegExp(`^p\\s+vm${n - 1}\\.qcow2 .* vm${n - 1} \\(shutoff, vda\\)$`, 'm'));
  });

  it.each([3, 1000] as const)('JSON of %i shut-off VMs reads the XML of the VMs using a listed volume in one more process, whatever their number', async (n) => {
    const { domains } = recordedState(`users${n}`);
    const runner = stubStorage(new FakeRunner(), `users${n}`, { only: ['p'], users: [], readonlyOf: domains });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeList(ctx, { pool: 'p' });
    runner.verify();
    // Pool details, domstats, the volumes' XML, the VMs' XML: 4 for 3 VMs as for 1000 (where both XML batches are
    // longer than one argument: 2 batches of 64 KiB each, each fed to one virsh on stdin).
    expect(chunkBatch(domains.map((d) => ['dumpxml', '--domain', d])).length).toBe(n === 3 ? 1 : 2);
    expect(runner.calls).toHaveLength(4);
    const users = JSON.parse(io.out).map((v: { name: string; users: unknown[] }) => [v.name, v.users]);
    expect(users).toHaveLength(n);
    const user = (i: number, readonly: boolean) => [`vm${i}.qcow2`, [{ vm: `vm${i}`, state: 'shutoff', active: false, target: 'vda', readonly }]];
    // users3: vm1's disk is readonly.
    expect(users.filter((u: unknown[]) => ['vm0.qcow2', 'vm1.qcow2', `vm${n - 1}.qcow2`].includes(u[0] as string))).toEqual(n === 3 ? [user(0, false), user(1, true), user(2, false)] : [user(0, false), user(1, false), user(n - 1, false)]);
  });
});
