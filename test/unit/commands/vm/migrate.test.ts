/**
 * vm migrate: the job-info parser, the argv, the pre-check's plan and
 * refusals, and whole runs against a FakeRunner, all from the outputs that
 * test/fixtures/recorded/migration/record.sh recorded on two joined lab hosts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDomainXml } from '../../../../src/libvirt/domain-xml.js';
import { parseNodememstats } from '../../../../src/libvirt/domain-commands.js';
import { hostUuidOf, migrationCalls, moveDiskSources, parseJobInfo, sourceReads, targetReads } from '../../../../src/libvirt/migration.js';
import { libvirtMessage, virshBatch } from '../../../../src/libvirt/virsh.js';
import { asCommand } from '../../../../src/libvirt/virsh-client.js';
import { parseVolumeXml } from '../../../../src/libvirt/volume-xml.js';
import type { PoolRecord } from '../../../../src/libvirt/storage.js';
import { planMigration, type SourceFacts, type TargetFacts } from '../../../../src/commands/vm/migrate-plan.js';
import { parseLines } from '../../../support/schemas.js';
import { batchStdout, runKvmctl } from '../../../support/harness.js';

const rec = (f: string) => readFileSync(join('test/fixtures/recorded/migration', f), 'utf8');
const DIR = '/var/tmp/kvmctl-lab/clab-m1-fxmig';
const DISK = `${DIR}/fxmig.qcow2`;
const BASE = `${DIR}/base.qcow2`;
const SRC = 'qemu+unix:///system?socket=/lab/a/libvirt-sock';
const DST = 'qemu+unix:///system?socket=/lab/b/libvirt-sock';

function pool(name: string, targetPath: string, active = true): PoolRecord {
  return { name, type: 'dir', state: active ? 'running' : 'inactive', active, autostart: false, persistent: true, targetPath, source: { devices: [] }, volumes: [] };
}

async function facts(): Promise<{ src: SourceFacts; dst: TargetFacts }> {
  const vol = await parseVolumeXml(rec('vol-dumpxml-source.xml'));
  const src: SourceFacts = { uri: SRC, label: 'm1', state: 'running', def: await parseDomainXml(rec('domxml-running.xml')), hostUuid: '9834be64-291a-42ee-b659-bb3cdeb59f27', volumes: new Map([[DISK, vol]]) };
  const dst: TargetFacts = {
    uri: DST,
    label: 'm2',
    hostUuid: hostUuidOf(rec('capabilities-host-uuid.txt')),
    hasName: false,
    activeNetworks: ['default'],
    allNetworks: ['default'],
    memory: parseNodememstats(rec('nodememstats.txt')),
    pools: [pool('fxmig', DIR), pool('data', '/srv/data')],
    volumes: new Map([
      [DISK, await parseVolumeXml(rec('vol-dumpxml-target.xml'))],
      [BASE, await parseVolumeXml(rec('vol-dumpxml-base-target.xml'))],
    ]),
  };
  return { src, dst };
}

describe('domjobinfo --rawstats', () => {
  it('reads a running job: bytes, ms and the iteration', () => {
    expect(parseJobInfo(rec('jobinfo-running.txt'))).toEqual({
      jobType: 'unbounded',
      timeElapsedMs: 2981,
      dataTotalBytes: 210509824,
      dataProcessedBytes: 2136164,
      dataRemainingBytes: 207507456,
      memoryTotalBytes: 210509824,
      memoryProcessedBytes: 2136164,
      memoryRemainingBytes: 207507456,
      memoryBytesPerSecond: 988166,
      diskTotalBytes: 0,
      diskProcessedBytes: 0,
      diskRemainingBytes: 0,
      expectedDowntimeMs: 300,
      iteration: 1,
    });
  });
  it('no job: none, nothing else; the target has no statistics (libvirt says so)', () => {
    expect(parseJobInfo(rec('jobinfo-none.txt'))).toEqual({ jobType: 'none' });
    expect(libvirtMessage(rec('jobinfo-running-target.stderr'))).toBe('Operation not supported: migration statistics are available only on the source host');
  });
});

describe('migration argv', () => {
  it('live, undefined on the source, copy of the named disks, data to the migration address', () => {
    const c = asCommand(SRC, migrationCalls.migrate({ name: 'a;b', targetUri: DST, live: true, keepSource: false, copy: { mode: 'copy', disks: ['vda', 'vdb'] }, unsafe: false, migrationAddress: '10.77.1.2', bandwidthMiB: 5 }));
    expect(c.mutates).toBe(true);
    expect(c.args).toEqual(['-c', SRC, 'migrate', '--live', '--persistent', '--undefinesource', '--copy-storage-all', '--migrate-disks', 'vda,vdb', '--domain', 'a;b', '--desturi', DST, '--migrateuri', 'tcp://10.77.1.2', '--listen-address', '10.77.1.2', '--bandwidth', '5']);
  });
  it('offline, source kept, shared storage checked by kvmctl (--unsafe), IPv6 address in brackets', () => {
    const c = asCommand(SRC, migrationCalls.migrate({ name: 'w', targetUri: DST, live: false, keepSource: true, unsafe: true, migrationAddress: 'fd00::2' }));
    expect(c.args).toEqual(['-c', SRC, 'migrate', '--offline', '--persistent', '--unsafe', '--domain', 'w', '--desturi', DST, '--migrateuri', 'tcp://[fd00::2]', '--listen-address', 'fd00::2']);
  });
  it('job info and abort on the source; the CPU check on the target reads the XML from stdin', () => {
    expect(asCommand(SRC, migrationCalls.jobInfo('w')).args).toEqual(['-c', SRC, 'domjobinfo', '--domain', 'w', '--rawstats']);
    expect(asCommand(SRC, migrationCalls.jobAbort('w'))).toMatchObject({ args: ['-c', SRC, 'domjobabort', '--domain', 'w'], mutates: true });
    expect(asCommand(DST, migrationCalls.cpuCompare('<domain/>', 'qemu', 'x86_64', 'pc-i440fx-7.2'))).toMatchObject({
      args: ['-c', DST, 'hypervisor-cpu-compare', '--file', '/dev/stdin', '--error', '--virttype', 'qemu', '--arch', 'x86_64', '--machine', 'pc-i440fx-7.2'],
      input: '<domain/>',
      mutates: false,
    });
  });
});

describe('the pre-check', () => {
  it('the target sees the same volume: live, shared, --unsafe in kvmctl\'s stead', async () => {
    const { src, dst } = await facts();
    const { plan, refusals } = planMigration(src, dst, { storage: 'auto' });
    expect(refusals).toEqual([]);
    expect(plan).toEqual({ live: true, storage: 'shared', unsafe: true, disks: [{ target: 'vda', path: DISK, action: 'shared', targetPath: DISK }] });
  });

  it('copy into another pool of the target; copy-inc creates the top image on the same base', async () => {
    const { src, dst } = await facts();
    expect(planMigration(src, dst, { storage: 'copy', targetPool: 'data' }).plan?.disks).toEqual([{ target: 'vda', path: DISK, action: 'copy', targetPath: '/srv/data/fxmig.qcow2', targetPool: 'data' }]);
    const inc = planMigration(src, dst, { storage: 'copy-inc', targetPool: 'data' }).plan;
    expect(inc?.storage).toBe('copy-inc');
    expect(inc?.unsafe).toBe(false);
    expect(inc?.disks[0]?.create).toEqual({ pool: 'data', name: 'fxmig.qcow2', capacityBytes: 67108864, format: 'qcow2', backingPath: BASE, backingFormat: 'qcow2' });
  });

  it('refuses every reason at once: same host, name and UUID, network, memory, CPU, storage', async () => {
    const { src, dst } = await facts();
    const cpu = libvirtMessage(rec('cpu-compare-avx512.stderr')).replace(/^the CPU is incompatible with host CPU: /, '');
    const bad: TargetFacts = { ...dst, hostUuid: src.hostUuid, hasName: true, activeNetworks: [], allNetworks: [], memory: { totalBytes: 100 << 20, availableBytes: 50 << 20 }, cpuError: cpu, volumes: new Map() };
    const { plan, refusals } = planMigration(src, bad, { storage: 'shared' });
    expect(plan).toBeUndefined();
    expect(refusals.map((r) => r.reason)).toEqual([
      'm2 is the same host as m1 (host UUID 9834be64-291a-42ee-b659-bb3cdeb59f27)',
      'm2 already has a VM named "fxmig"',
      'network "default" does not exist on m2',
      'm2 has 50.0 MiB of memory available, the VM needs 200.0 MiB',
      "the CPU of m2 cannot run the guest's CPU: Host CPU does not provide required features: avx512f",
      `disk vda (${DISK}): it is not copied (--storage shared) and m2 does not see the same volume at that path`,
    ]);
    expect(refusals[2]?.hint).toBe(`create it there first (kvmctl -c '${DST}' net list shows what exists)`);
  });

  it('a UUID taken under another name, an inactive network, a missing pool, an existing target volume', async () => {
    const { src, dst } = await facts();
    const r1 = planMigration(src, { ...dst, uuidTakenBy: 'old copy', activeNetworks: [] }, { storage: 'auto' }).refusals.map((r) => r.reason);
    expect(r1).toEqual([`m2 already has a VM with its UUID 5d1b6c3e-6f3a-4a57-9c53-2f1e7f0c0a11 ("old copy")`, 'network "default" is not active on m2']);
    expect(planMigration(src, dst, { storage: 'copy', targetPool: 'nope' }).refusals.map((r) => r.reason)).toEqual(['storage pool "nope" does not exist on m2']);
    const taken = new Map(dst.volumes).set('/srv/data/fxmig.qcow2', await parseVolumeXml(rec('vol-dumpxml-target.xml')));
    expect(planMigration(src, { ...dst, volumes: taken }, { storage: 'copy', targetPool: 'data' }).refusals.map((r) => r.reason)).toEqual(['disk vda: volume data/fxmig.qcow2 already exists on m2 (/srv/data/fxmig.qcow2)']);
    const noPool = planMigration(src, { ...dst, pools: [], volumes: new Map() }, { storage: 'auto' }).refusals;
    expect(noPool.map((r) => r.reason)).toEqual([`disk vda (${DISK}): m2 has no active storage pool for ${DIR} to copy it into`]);
  });

  it("a network only the running VM's saved definition uses must exist on the target; one it has now is checked as before", async () => {
    const { src, dst } = await facts();
    // The recorded definition with a second NIC, as `virsh attach-interface --config` leaves it: in the saved definition only.
    const savedXml = rec('domxml-running.xml').replace("<interface type='network'>", "<interface type='network'><source network='onlyhere'/></interface>\n    <interface type='network'>");
    const saved = await parseDomainXml(savedXml);
    expect(saved.interfaces.map((n) => (n.type === 'network' ? n.source.network : n.type))).toEqual(['onlyhere', 'default']);
    const refused = planMigration({ ...src, saved }, dst, { storage: 'auto' });
    expect(refused.plan).toBeUndefined();
    expect(refused.refusals).toEqual([
      {
        reason: 'network "onlyhere", which its saved definition uses, does not exist on m2: it would not start there after a shutdown',
        hint: `create it there first (kvmctl -c '${DST}' net list shows what exists), or detach that NIC from the saved definition`,
      },
    ]);
    // Defined there (even inactive), it is enough for now; the saved definition of the same NICs changes nothing.
    expect(planMigration({ ...src, saved }, { ...dst, allNetworks: [...dst.allNetworks, 'onlyhere'] }, { storage: 'auto' }).refusals).toEqual([]);
    expect(planMigration({ ...src, saved: src.def }, dst, { storage: 'auto' }).refusals).toEqual([]);
  });

  it('offline: the disks must be shared (libvirt cannot copy them), and the VM must fit the host at all', async () => {
    const { src, dst } = await facts();
    const off = { ...src, state: 'shutoff' };
    expect(planMigration(off, dst, { storage: 'auto' }).plan).toMatchObject({ live: false, storage: 'shared' });
    const refused = planMigration(off, { ...dst, volumes: new Map(), memory: { totalBytes: 100 << 20, availableBytes: 1 } }, { storage: 'auto' }).refusals;
    expect(refused.map((r) => r.reason)).toEqual([
      'm2 has 100.0 MiB of memory in all, the VM needs 200.0 MiB',
      `disk vda (${DISK}): m2 does not see the same volume at that path, and a shut-off VM's disks cannot be copied (libvirt: "offline migration cannot handle non-shared storage")`,
    ]);
  });

  it('copy-inc without the base on the target; copying a volume onto itself', async () => {
    const { src, dst } = await facts();
    const noBase = new Map(dst.volumes);
    noBase.delete(BASE);
    expect(planMigration(src, { ...dst, volumes: noBase }, { storage: 'copy-inc', targetPool: 'data' }).refusals.map((r) => r.reason)).toEqual([`disk vda: copy-inc copies only its top image, and m2 does not see its base image ${BASE}`]);
    expect(planMigration(src, dst, { storage: 'copy', targetPool: 'fxmig' }).refusals.map((r) => r.reason)).toEqual([`disk vda (${DISK}): m2 sees this very volume; copying it onto itself would destroy it`]);
  });
});

describe('the XML for the target', () => {
  it('moves only the copied disk, keeps libvirt\'s order; a full copy drops the old backing chain', async () => {
    const xml = rec('domxml-running.xml');
    const moved = await moveDiskSources(xml, new Map([[DISK, '/srv/data/fxmig.qcow2']]), false);
    const def = await parseDomainXml(moved);
    expect(def.disks.map((d) => d.source?.file)).toEqual(['/srv/data/fxmig.qcow2']);
    expect(moved).not.toContain('<backingStore');
    expect(moved.indexOf('<disk')).toBeLessThan(moved.indexOf('<controller'));
    const inc = await parseDomainXml(await moveDiskSources(xml, new Map([[DISK, '/srv/data/fxmig.qcow2']]), true));
    expect(inc.disks[0]?.backingFile).toBe(BASE);
  });
});

// ---- whole runs ---------------------------------------------------------------------

const argvOf = (c: Command) => c.args.slice(2);
const isBatch = (uri: string, words: string[][]) => (c: Command) => c.args[1] === uri && c.args[2] === virshBatch(uri, words).args[2];

function fleet(runner: FakeRunner, opts: { targetHasName?: boolean; migrate?: { exitCode: number; stderr?: string }; after?: { source?: string; target?: string } }) {
  const NAME = 'fxmig';
  const state = (s: string | undefined) => (s ? { stdout: `${s}\n` } : { exitCode: 1, stderr: rec('migrate-name-exists.stderr').replace(/.*/, "error: failed to get domain 'fxmig'") });
  const s = sourceReads(NAME);
  const t = targetReads(NAME, '5d1b6c3e-6f3a-4a57-9c53-2f1e7f0c0a11');
  runner.stub([ 'virsh', '-c', SRC, 'domstate', '--domain', NAME, '--reason'], { stdout: 'running (booted)\n' });
  runner.stub(isBatch(SRC, Object.values(s).map((c) => c.words)), { stdout: batchStdout(['running (booted)\n', rec('domxml-running.xml'), rec('domxml-running.xml'), rec('domxml-running.xml'), rec('domxml-running.xml'), '<capabilities><host><uuid>9834be64-291a-42ee-b659-bb3cdeb59f27</uuid></host></capabilities>']) });
  runner.stub(isBatch(SRC, [['vol-dumpxml', '--vol', DISK]]), { stdout: rec('vol-dumpxml-source.xml') });
  runner.stub(isBatch(SRC, [['vol-dumpxml', '--vol', BASE]]), { stdout: rec('vol-dumpxml-base-target.xml') });
  runner.stub(isBatch(DST, Object.values(t).map((c) => c.words)), {
    stdout: batchStdout([rec('capabilities-host-uuid.txt'), opts.targetHasName ? rec('dominfo-target-exists.txt') : '', '', 'default\n', 'default\n', rec('nodememstats.txt')]),
  });
  runner.stub(isBatch(DST, [['pool-list', '--all', '--name']]), { stdout: 'fxmig\n' });
  runner.stub((c) => c.args[1] === DST && (c.args[2] ?? '').startsWith("'pool-info'"), { stdout: batchStdout(['State:          running\nPersistent:     yes\nAutostart:      no\n', `<pool type='dir'><name>fxmig</name><target><path>${DIR}</path></target></pool>`, ' Name Path\n---\n']) });
  runner.stub((c) => c.args[1] === DST && (c.args[2] ?? '').startsWith("'vol-dumpxml'"), { stdout: batchStdout([rec('vol-dumpxml-target.xml'), rec('vol-dumpxml-base-target.xml'), rec('vol-dumpxml-target.xml')]) });
  runner.stub((c) => argvOf(c)[0] === 'hypervisor-cpu-compare', { stdout: rec('cpu-compare-ok.txt') });
  if (opts.migrate) {
    runner.stub((c) => argvOf(c)[0] === 'migrate', opts.migrate);
    runner.stub((c) => argvOf(c)[0] === 'domjobinfo', { stdout: rec('jobinfo-running.txt') }, Infinity);
    runner.stub((c) => c.args[1] === DST && argvOf(c)[0] === 'domstate', state(opts.after?.target));
    runner.stub((c) => c.args[1] === SRC && argvOf(c)[0] === 'domstate', state(opts.after?.source));
  }
}

const HOSTS = { KVMCTL_HOSTS: '/nonexistent/hosts.yaml' };

describe('kvmctl vm migrate (FakeRunner, recorded outputs)', () => {
  it('shared storage: one migrate on the source with --unsafe, the result names where it runs', async () => {
    const runner = new FakeRunner();
    fleet(runner, { migrate: { exitCode: 0 }, after: { target: 'running (migrated)' } });
    const r = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', DST], runner, { uri: SRC, env: HOSTS });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^vm fxmig migrated to ${DST.replace(/[?+]/g, '\\$&')} \\(live, storage shared\\) in [\\d.]+ s; running there\\n$`));
    const migrate = runner.calls.filter((c) => argvOf(c)[0] === 'migrate');
    expect(migrate.map(argvOf)).toEqual([['migrate', '--live', '--persistent', '--undefinesource', '--unsafe', '--domain', 'fxmig', '--desturi', DST]]);
    runner.verify();
  });

  it('a VM of that name on the target: exit 5, the reason and the hint, and no migrate, no change at all', async () => {
    const runner = new FakeRunner();
    fleet(runner, { targetHasName: true });
    const r = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', DST], runner, { uri: SRC, env: HOSTS });
    expect(r.code).toBe(5);
    expect(r.err).toContain(`vm migrate fxmig to ${DST} refused, nothing was moved: ${DST} already has a VM named "fxmig"`);
    expect(r.err).toContain(`hint: rename or delete that one first (kvmctl -c '${DST}' vm info fxmig)`);
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    runner.verify();
  });

  it('libvirt fails and the VM still runs on the source: exit 7 with libvirt\'s message', async () => {
    const runner = new FakeRunner();
    fleet(runner, { migrate: { exitCode: 1, stderr: rec('migrate-unsafe.stderr') }, after: { source: 'running (migration-canceled)' } });
    const r = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', DST], runner, { uri: SRC, env: HOSTS });
    expect(r.code).toBe(7);
    expect(r.err).toContain(`migration of VM "fxmig" to ${DST} failed (Unsafe migration: Migration without shared storage is unsafe); it still runs on ${SRC}, nothing is left on ${DST}`);
    runner.verify();
  });

  it('failed and paused on the source: exit 8 and the shell-quoted command that resumes it', async () => {
    const runner = new FakeRunner();
    fleet(runner, { migrate: { exitCode: 1, stderr: 'error: internal error: qemu unexpectedly closed the monitor\n' }, after: { source: 'paused (api-error)' } });
    const r = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', DST, '-o', 'json'], runner, { uri: SRC, env: HOSTS });
    expect(r.code).toBe(8);
    const err = JSON.parse(r.err.trim().split('\n').pop() ?? '{}').error;
    expect(err.message).toBe(`migration of VM "fxmig" to ${DST} failed (internal error: qemu unexpectedly closed the monitor) and it runs nowhere (on ${SRC}: paused, on ${DST}: absent)`);
    expect(err.hint).toBe(`recover with: kvmctl -c '${SRC}' vm resume fxmig`);
    // -o json: NDJSON events on stdout, the start first.
    expect(parseLines(['vm', 'migrate', 'fxmig'], r.out)[0]).toMatchObject({ event: 'start', name: 'fxmig', live: true, storage: 'shared' });
    runner.verify();
  });

  it('bad usage is exit 2 before anything runs', async () => {
    const runner = new FakeRunner();
    const r = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', DST, '--on-timeout', 'suspend'], runner, { uri: SRC, env: HOSTS });
    expect(r.code).toBe(2);
    expect(r.err).toContain('--on-timeout suspend needs --timeout SECONDS');
    const unknown = await runKvmctl(['vm', 'migrate', 'fxmig', '--to', 'kvm9'], runner, { uri: SRC, env: HOSTS });
    expect(unknown.code).toBe(3);
    expect(unknown.err).toContain('no host "kvm9" in the inventory /nonexistent/hosts.yaml');
    expect(runner.calls).toEqual([]);
  });
});
