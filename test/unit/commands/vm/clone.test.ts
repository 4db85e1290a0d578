/** `vm clone` against recorded virsh output: copies or overlays, its own seed, rollback. */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDomainXml } from '../../../../src/libvirt/domain-xml.js';
import { parseOutput } from '../../../support/schemas.js';
import { volCopy, volCreate } from '../../volume-match.js';
import { callOf, mutations, recorded, runKvmctl, stubBatch, URI, virshArgv } from '../../../support/harness.js';
import { POOL_DIR, poolWords, recordedPoolOutputs, stubDomainList } from '../../../support/vm.js';

const OFF = `${POOL_DIR}/fxvm-off.qcow2`;
const OFF_VDB = `${POOL_DIR}/fxvm-off-vdb.qcow2`;

/** vol-dumpxml of fxvm-off-vdb.qcow2: the recorded fxvm-off.qcow2 renamed, without a backing file (it was made empty). */
function vdbVolumeXml(): string {
  return recorded('vm/virsh-vol-dumpxml-by-path.xml')
    .replace(/fxvm-off\.qcow2/g, 'fxvm-off-vdb.qcow2')
    .replace(/<backingStore>[\s\S]*<\/backingStore>\n/, '');
}

/** The reads of vm clone; firstOnly: only the first batch (a clone refused on what it shows). */
function stubCloneReads(runner: FakeRunner, o: { state?: string; newExists?: boolean; xml?: string; newName?: string; firstOnly?: boolean } = {}): FakeRunner {
  stubBatch(
    runner,
    [['domstate', '--domain', 'fxvm-off', '--reason'], ['dumpxml', '--domain', 'fxvm-off', '--inactive'], ['dominfo', '--domain', o.newName ?? 'fxvm-copy']],
    [o.state ?? recorded('vm/virsh-domstate-off.txt'), o.xml ?? recorded('vm/virsh-dumpxml-off-inactive.xml'), o.newExists ? recorded('vm/virsh-dominfo-off.txt') : ''],
  );
  if (o.state || o.newExists || o.firstOnly) return runner;
  stubBatch(
    runner,
    [['vol-pool', '--vol', OFF], ['vol-dumpxml', '--vol', OFF], ['vol-pool', '--vol', OFF_VDB], ['vol-dumpxml', '--vol', OFF_VDB]],
    [recorded('vm/virsh-vol-pool-by-path.txt'), recorded('vm/virsh-vol-dumpxml-by-path.xml'), recorded('vm/virsh-vol-pool-by-path.txt'), vdbVolumeXml()],
  );
  stubBatch(runner, poolWords('fxvm-pool'), recordedPoolOutputs(), '', 2);
  // Every defined VM, whose MACs the clone's must differ from (none besides the source here).
  stubDomainList(runner, []);
  // fxvm-off's disk is an overlay: its chain is followed through every pool's volumes.
  stubBatch(runner, [['pool-list', '--all', '--name']], ['fxvm-pool\n']);
  const vols = ['base.qcow2', 'fxvm-off-vdb.qcow2', 'fxvm-off.qcow2', 'fxvm-web-seed.iso', 'fxvm-web.qcow2'];
  const volXml = (v: string) => (v === 'base.qcow2' ? recorded('vm/virsh-vol-dumpxml-base.xml') : v === 'fxvm-off.qcow2' ? recorded('vm/virsh-vol-dumpxml-by-path.xml') : vdbVolumeXml().replace(/fxvm-off-vdb\.qcow2/g, v));
  return stubBatch(runner, vols.map((v) => ['vol-dumpxml', '--pool', 'fxvm-pool', '--vol', v]), vols.map(volXml));
}

const isDefine = (c: { args: string[] }) => c.args.includes('define');

describe('vm clone', () => {
  it('copies each disk (vol-create-from, sparse) and defines the copy with a new uuid, MAC and serial log; the source is not touched', async () => {
    const runner = stubCloneReads(new FakeRunner());
    runner.stub(volCopy(URI, 'fxvm-pool', 'fxvm-off.qcow2', { name: 'fxvm-copy.qcow2', capacityBytes: 67108864, format: 'qcow2' }), {});
    runner.stub(volCopy(URI, 'fxvm-pool', 'fxvm-off-vdb.qcow2', { name: 'fxvm-copy-vdb.qcow2', capacityBytes: 67108864, format: 'qcow2' }), {});
    runner.stub(isDefine, {});
    const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('vm fxvm-copy cloned from fxvm-off: fxvm-pool/fxvm-copy.qcow2 (copy of fxvm-pool/fxvm-off.qcow2), fxvm-pool/fxvm-copy-vdb.qcow2 (copy of fxvm-pool/fxvm-off-vdb.qcow2)\n');
    expect(mutations(runner).every((m) => !m.includes('--domain fxvm-off'))).toBe(true);
    expect(runner.calls.filter((c) => c.mutates).every((c) => !c.input?.includes('<name>fxvm-off'))).toBe(true);
    const src = await parseDomainXml(recorded('vm/virsh-dumpxml-off-inactive.xml'));
    const copy = await parseDomainXml(callOf(runner, isDefine).input ?? '');
    expect(copy.name).toBe('fxvm-copy');
    expect(copy.uuid).not.toBe(src.uuid);
    expect(copy.interfaces[0]?.mac).not.toBe(src.interfaces[0]?.mac);
    expect(copy.interfaces[0]?.mac).toMatch(/^52:54:00:/);
    expect(copy.disks.map((d) => [d.target.dev, d.source?.file])).toEqual([
      ['vda', `${POOL_DIR}/fxvm-copy.qcow2`],
      ['vdb', `${POOL_DIR}/fxvm-copy-vdb.qcow2`],
    ]);
    expect(copy.serialLogs).toEqual([`${POOL_DIR}/fxvm-copy.serial.log`]);
    expect([copy.memoryBytes, copy.vcpus]).toEqual([src.memoryBytes, src.vcpus]);
    runner.verify();
  });

  it('--linked makes thin overlays on the source disks and warns to keep the source off', async () => {
    const runner = stubCloneReads(new FakeRunner());
    runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: OFF, format: 'qcow2' } }), {});
    runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy-vdb.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: OFF_VDB, format: 'qcow2' } }), {});
    runner.stub(isDefine, {});
    const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy', '--linked'], runner);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: the disks of fxvm-off are now the base images of fxvm-copy's overlays/);
    runner.verify();
  });

  describe('of a VM with a cloud-init seed', () => {
    const SEED = `${POOL_DIR}/fxvm-off-seed.iso`;
    /** fxvm-off as vm create makes it with --hostname: its seed a read-only virtio disk, named in kvmctl's metadata. */
    const xml = recorded('vm/virsh-dumpxml-off-inactive.xml')
      .replace('</uuid>', `</uuid>\n  <metadata>\n    <kvmctl:domain xmlns:kvmctl="urn:kvmctl:domain:1">\n      <kvmctl:seed pool="fxvm-pool" volume="fxvm-off-seed.iso"/>\n    </kvmctl:domain>\n  </metadata>`)
      .replace('    <interface', `    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='${SEED}'/>\n      <target dev='vdc' bus='virtio'/>\n      <readonly/>\n    </disk>\n    <interface`);
    const SRC_FILES: Record<string, string> = {
      'meta-data': recorded('vm/isoinfo-seed-meta-data.txt').replace('web1', 'fxvm-off'),
      'user-data': recorded('vm/isoinfo-seed-user-data.txt').replace('web1', 'fxvm-off'),
      'network-config': recorded('vm/isoinfo-seed-network-config.txt').replace('52:54:00:12:34:56', '52:54:00:f1:00:02'),
    };
    const isIsoinfo = (c: Command) => c.program === 'isoinfo';
    const isDownload = (c: Command) => c.args.includes('vol-download');
    const isGenisoimage = (c: Command) => c.program === 'genisoimage';
    const FILES = { '/usr/bin/isoinfo': '', '/usr/bin/genisoimage': '' };

    function stubSeedClone(runner: FakeRunner, written: Record<string, string>): FakeRunner {
      stubCloneReads(runner, { xml });
      runner.stub(isDownload, {});
      runner.stub(isIsoinfo, (c) => ({ stdout: SRC_FILES[(c.args[c.args.indexOf('-x') + 1] ?? '').slice(1)] ?? recorded('vm/isoinfo-seed-nosuch.txt') }), 3);
      // genisoimage as the real one behaves: reads the files, writes the image.
      runner.stub(isGenisoimage, (c) => {
        for (const f of c.args.filter((a) => a.startsWith('/') && !a.endsWith('.iso'))) written[basename(f)] = readFileSync(f, 'utf8');
        writeFileSync(c.args[c.args.indexOf('-output') + 1] ?? '', Buffer.alloc(374784));
        return {};
      });
      runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: OFF, format: 'qcow2' } }), {});
      runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy-vdb.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: OFF_VDB, format: 'qcow2' } }), {});
      return runner;
    }

    it('the clone gets its own seed: new instance-id, its name as host name, the same keys, network config on its MAC', async () => {
      const written: Record<string, string> = {};
      const runner = stubSeedClone(new FakeRunner(), written);
      runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy-seed.iso', capacityBytes: 374784, allocationBytes: 0, format: 'raw' }), {});
      runner.stub((c) => c.args.includes('vol-upload'), {});
      runner.stub(isDefine, {});
      const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy', '--linked', '-o', 'json'], runner, { files: FILES });
      expect(r.code, r.err).toBe(0);
      const copy = await parseDomainXml(callOf(runner, isDefine).input ?? '');
      const mac = copy.interfaces[0]?.mac ?? '';
      expect(mac).not.toBe('52:54:00:f1:00:02');
      expect(copy.kvmctl).toEqual({ seed: { pool: 'fxvm-pool', volume: 'fxvm-copy-seed.iso' } });
      expect(copy.disks.map((d) => [d.target.dev, d.target.bus, d.readonly, d.source?.file])).toEqual([
        ['vda', 'virtio', false, `${POOL_DIR}/fxvm-copy.qcow2`],
        ['vdb', 'virtio', false, `${POOL_DIR}/fxvm-copy-vdb.qcow2`],
        ['vdc', 'virtio', true, `${POOL_DIR}/fxvm-copy-seed.iso`],
      ]);
      expect(written['meta-data']).toBe(`instance-id: "${copy.uuid}"\nlocal-hostname: "fxvm-copy"\n`);
      expect(written['user-data']).toBe(SRC_FILES['user-data']?.replace('hostname: "fxvm-off"', 'hostname: "fxvm-copy"'));
      expect(written['network-config']).toBe(SRC_FILES['network-config']?.replace('52:54:00:f1:00:02', mac));
      const json = parseOutput(['vm', 'clone', 'fxvm-off', 'fxvm-copy'], r.out);
      expect(json).toMatchObject({ changed: true, name: 'fxvm-copy', uuid: copy.uuid, state: 'shutoff', snapshots: [] });
      expect(json.disks.map((d: { source: string | null }) => d.source)).toEqual([`${POOL_DIR}/fxvm-copy.qcow2`, `${POOL_DIR}/fxvm-copy-vdb.qcow2`, `${POOL_DIR}/fxvm-copy-seed.iso`]);
      expect(json.nics.map((n: { mac: string | null }) => n.mac)).toEqual([mac]);
      // The source's seed is only read (downloaded), never written.
      expect(mutations(runner).filter((m) => m.includes('fxvm-off-seed'))).toEqual([]);
      runner.verify();
    });

    it('a failed seed upload removes the seed volume and the overlays (exit 7); nothing is defined', async () => {
      const runner = stubSeedClone(new FakeRunner(), {});
      runner.stub(volCreate(URI, 'fxvm-pool', { name: 'fxvm-copy-seed.iso', capacityBytes: 374784, allocationBytes: 0, format: 'raw' }), {});
      runner.stub((c) => c.args.includes('vol-upload'), { exitCode: 1, stderr: 'error: internal error: injected\n' });
      for (const v of ['fxvm-copy-seed.iso', 'fxvm-copy-vdb.qcow2', 'fxvm-copy.qcow2']) runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', v), {});
      const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy', '--linked'], runner, { files: FILES });
      expect(r.code).toBe(7);
      expect(mutations(runner).slice(-3)).toEqual(['virsh vol-delete --pool fxvm-pool --vol fxvm-copy-seed.iso', 'virsh vol-delete --pool fxvm-pool --vol fxvm-copy-vdb.qcow2', 'virsh vol-delete --pool fxvm-pool --vol fxvm-copy.qcow2']);
      expect(runner.calls.some(isDefine)).toBe(false);
      runner.verify();
    });

    it('a clone name that is no host name needs --hostname (exit 2, nothing created); --hostname is checked first', async () => {
      const bad = stubCloneReads(new FakeRunner(), { xml, newName: 'fxvm_copy', firstOnly: true });
      const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm_copy'], bad, { files: FILES });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/VM "fxvm_copy" is no valid host name for the clone's cloud-init seed\nhint: give one with --hostname/);
      expect(mutations(bad)).toEqual([]);
      const flag = new FakeRunner();
      const f = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy', '--hostname', 'a;b'], flag, { files: FILES });
      expect([f.code, f.err]).toEqual([2, expect.stringMatching(/--hostname "a;b": not a valid host name/)]);
      expect(flag.calls).toEqual([]);
    });
  });

  it('a define that fails removes the copies it made (exit 7)', async () => {
    const runner = stubCloneReads(new FakeRunner());
    runner.stub((c) => c.args.includes('vol-create-from'), {}, 2);
    runner.stub(isDefine, { exitCode: 1, stderr: 'error: internal error: injected\n' });
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-copy-vdb.qcow2'), {});
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-copy.qcow2'), {});
    const r = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy'], runner);
    expect(r.code).toBe(7);
    expect(mutations(runner).slice(-2)).toEqual(['virsh vol-delete --pool fxvm-pool --vol fxvm-copy-vdb.qcow2', 'virsh vol-delete --pool fxvm-pool --vol fxvm-copy.qcow2']);
    runner.verify();
  });

  it('a running source is exit 5, an existing target exit 4, a bad new name exit 2; nothing is run', async () => {
    const running = stubCloneReads(new FakeRunner(), { state: 'running (booted)\n' });
    const a = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy'], running);
    expect([a.code, a.err]).toEqual([5, expect.stringMatching(/VM "fxvm-off" is running: a clone of a running VM's disks would not be consistent\nhint: stop it first/)]);
    const exists = stubCloneReads(new FakeRunner(), { newExists: true });
    const b = await runKvmctl(['vm', 'clone', 'fxvm-off', 'fxvm-copy'], exists);
    expect([b.code, b.err]).toEqual([4, expect.stringMatching(/VM "fxvm-copy" already exists; it was left unchanged/)]);
    const bad = new FakeRunner();
    const c = await runKvmctl(['vm', 'clone', 'fxvm-off', 'a/b'], bad);
    expect(c.code).toBe(2);
    for (const runner of [running, exists, bad]) expect(mutations(runner)).toEqual([]);
  });
});
