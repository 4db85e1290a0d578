import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { splitBatch, virshBatch } from '../../../src/libvirt/virsh.js';
import {
  dependentVolumes,
  isLocalUri,
  loadPools,
  loadVolumes,
  parseCompletion,
  parseVolList,
  thinAllocation,
  volumeUsers,
  type PoolRecord,
} from '../../../src/libvirt/storage.js';
import type { DomainRecord } from '../../../src/libvirt/domains.js';
import { completedVolumeNames } from '../../support/storage.js';
import type { DomainDefinition, DomainDisk } from '../../../src/libvirt/domain-xml.js';

const URI = 'qemu:///system';
const rec = (name: string) => readFileSync(new URL(`../../fixtures/recorded/storage/${name}`, import.meta.url), 'utf8');
const argvOf = (commands: string[][]) => {
  const c = virshBatch(URI, commands);
  return [c.program, ...c.args];
};

const detailCommands = (pools: string[]) =>
  pools.flatMap((p) => [
    ['pool-info', '--pool', p],
    ['pool-dumpxml', '--pool', p],
    ['vol-list', '--pool', p],
  ]);

function fakeWithPools(): FakeRunner {
  return new FakeRunner()
    .stub(argvOf([['pool-list', '--all', '--name']]), { stdout: rec('pool-list-batch.txt') })
    .stub(argvOf(detailCommands(['p1', 'p3'])), {
      stdout: rec('pool-details-batch.txt'),
      stderr: "error: Failed to list volumes\nerror: Requested operation is not valid: storage pool 'p3' is not active\n",
    });
}

describe('loadPools', () => {
  it('reads every pool in two virsh processes: state, autostart, target, sizes and volumes', async () => {
    const runner = fakeWithPools();
    const pools = await loadPools(runner, URI);
    runner.verify();
    expect(runner.calls).toHaveLength(2);
    expect(pools.map((p) => p.name)).toEqual(['p1', 'p3']);
    const [p1, p3] = pools;
    expect(p1).toMatchObject({
      type: 'dir',
      state: 'running',
      active: true,
      autostart: true,
      persistent: true,
      targetPath: '/var/tmp/kvmctl-lab/storage/pools/p1',
      capacityBytes: 270553174016,
      allocationBytes: 23870754816,
      availableBytes: 246682419200,
    });
    expect(p1?.volumes?.map((v) => v.name)).toEqual(['a b.qcow2', 'ov.qcow2', 'ovclone.qcow2', 'unrel.raw', 'unrelated.qcow2', 'up.qcow2', 'up.raw']);
    expect(p1?.volumes?.[0]?.path).toBe('/var/tmp/kvmctl-lab/storage/pools/p1/a b.qcow2');
    // Inactive: libvirt reports zero sizes and cannot list volumes; both are unknown, not zero.
    expect(p3).toMatchObject({ state: 'inactive', active: false, autostart: false, capacityBytes: undefined, volumes: undefined });
  });

  it('asks only for the named pools (one process) and leaves out one that does not exist', async () => {
    const runner = new FakeRunner().stub(argvOf(detailCommands(['nosuch'])), {
      stdout: 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\nKVMCTL-BATCH-SEPARATOR-d41d8cd9\n',
      stderr: "error: failed to get pool 'nosuch'\nerror: Storage pool not found: no storage pool with matching name 'nosuch'\n",
    });
    expect(await loadPools(runner, URI, ['nosuch'])).toEqual([]);
    runner.verify();
  });

  it('an unreachable daemon is exit 5 naming the URI', async () => {
    const runner = new FakeRunner().stub(argvOf([['pool-list', '--all', '--name']]), {
      exitCode: 1,
      stderr: 'error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/run/libvirt/libvirt-sock\': No such file or directory\n',
    });
    await expect(loadPools(runner, URI)).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining('cannot reach libvirt at qemu:///system') });
  });
});

describe('loadVolumes', () => {
  it('reads the XML of every volume of the given pools in one process, backing files included', async () => {
    const pool: PoolRecord = {
      name: 'p1',
      type: 'dir',
      state: 'running',
      active: true,
      autostart: true,
      persistent: true,
      source: { devices: [] },
      volumes: ['a b.qcow2', 'ov.qcow2', 'up.raw'].map((n) => ({ name: n, path: `/var/tmp/kvmctl-lab/storage/pools/p1/${n}` })),
    };
    const inactive: PoolRecord = { ...pool, name: 'p3', state: 'inactive', active: false, volumes: undefined };
    const runner = new FakeRunner().stub(
      argvOf(['a b.qcow2', 'ov.qcow2', 'up.raw'].map((n) => ['vol-dumpxml', '--pool', 'p1', '--vol', n])),
      { stdout: rec('vol-dumpxml-batch.txt') },
    );
    const vols = await loadVolumes(runner, URI, [pool, inactive]);
    runner.verify();
    expect(runner.calls).toHaveLength(1);
    expect(vols).toEqual([
      expect.objectContaining({ pool: 'p1', name: 'a b.qcow2', format: 'qcow2', capacityBytes: 1073741824, backingFile: undefined }),
      expect.objectContaining({
        pool: 'p1',
        name: 'ov.qcow2',
        format: 'qcow2',
        path: '/var/tmp/kvmctl-lab/storage/pools/p1/ov.qcow2',
        backingFile: '/var/tmp/kvmctl-lab/storage/pools/p1/a b.qcow2',
        backingFormat: 'qcow2',
      }),
      expect.objectContaining({ pool: 'p1', name: 'up.raw', format: 'raw', capacityBytes: 67108864 }),
    ]);
    expect(dependentVolumes(vols, vols[0]!).map((v) => v.name)).toEqual(['ov.qcow2']);
  });

  it('makes no call when there are no volumes', async () => {
    const runner = new FakeRunner();
    expect(await loadVolumes(runner, URI, [])).toEqual([]);
    expect(runner.calls).toHaveLength(0);
  });
});

function domain(name: string, state: string, disks: Array<Partial<DomainDisk>>): DomainRecord {
  const definition: DomainDefinition = {
    type: 'qemu',
    name,
    memoryBytes: 0,
    currentMemoryBytes: 0,
    vcpus: 1,
    os: { type: 'hvm', boot: [] },
    disks: disks.map((d, i) => ({ type: 'file', device: 'disk', target: { dev: `vd${'abc'[i]}` }, ...d })),
    interfaces: [],
    serialLogs: [],
    graphics: [],
    live: state === 'running',
  };
  return { name, state, autostart: false, definition };
}

describe('volumeUsers', () => {
  const vol = { pool: 'p1', name: 'web.qcow2', path: '/pools/p1/web.qcow2' };
  it('finds VMs by file path and by pool/volume source, running or defined', () => {
    const domains = [
      domain('a', 'running', [{ source: { file: '/pools/p1/web.qcow2' } }]),
      domain('b', 'shut off', [{ type: 'volume', source: { pool: 'p1', volume: 'web.qcow2' }, readonly: true }]),
      domain('c', 'running', [{ source: { file: '/pools/p1/other.qcow2' } }]),
      domain('d', 'paused', [{ type: 'block', source: { dev: '/pools/p1/web.qcow2' } }, { source: { file: '/x' } }]),
    ];
    expect(volumeUsers(domains, vol)).toEqual([
      { vm: 'a', state: 'running', active: true, target: 'vda', readonly: false },
      { vm: 'b', state: 'shut off', active: false, target: 'vda', readonly: true },
      { vm: 'd', state: 'paused', active: true, target: 'vda', readonly: false },
    ]);
  });
});

describe('vol-list parsing and URIs', () => {
  it('keeps spaces inside names and paths', () => {
    // Recorded: pool p1's vol-list, the third section of a pool-details batch (storage/README.md).
    const text = splitBatch(readFileSync('test/fixtures/recorded/storage/pool-details-batch.txt', 'utf8'), 3)[2]!;
    const dir = '/var/tmp/kvmctl-lab/storage/pools/p1';
    expect(parseVolList(text)).toEqual(['a b.qcow2', 'ov.qcow2', 'ovclone.qcow2', 'unrel.raw', 'unrelated.qcow2', 'up.qcow2', 'up.raw'].map((name) => ({ name, path: `${dir}/${name}` })));
  });

  it('reads the volume names of a batched completion: a name a line (spaces escaped), an empty pool a blank line', () => {
    const [x1, x2] = rec('complete-vol-names-batch.txt').split('KVMCTL-BATCH-SEPARATOR-d41d8cd9\n');
    expect(parseCompletion(x1 ?? '')).toEqual(['a\\ b', "x'y\\ z.img", 'q;r\\s']);
    expect(parseCompletion(x2 ?? '')).toEqual([]);
    // The completion stubStorage renders for a recorded state's volume names is this recording, byte for byte.
    expect([completedVolumeNames(['a b', "x'y z.img", 'q;r\\s']), completedVolumeNames([])]).toEqual([x1, x2]);
  });

  it('knows which URIs are this machine', () => {
    expect(isLocalUri('qemu:///system')).toBe(true);
    expect(isLocalUri('qemu+unix:///system?socket=/x/libvirt-sock')).toBe(true);
    expect(isLocalUri('qemu+ssh://root@kvm1/system')).toBe(false);
    expect(isLocalUri('qemu+tcp://10.0.0.2/system')).toBe(false);
  });
});

describe('thinAllocation', () => {
  // Every new volume kvmctl makes (vm create disks and seeds, volume create, import, clone, convert) asks for this.
  it.each(['dir', 'fs', 'netfs'])('a %s pool holds files: a new volume starts sparse (allocation 0)', (type) => {
    expect(thinAllocation(type)).toBe(0);
  });

  it.each(['logical', 'disk', 'iscsi', 'rbd', 'zfs'])('a %s pool: the allocation is left to libvirt (a smaller one makes an LVM snapshot volume writes overflow)', (type) => {
    expect(thinAllocation(type)).toBeUndefined();
  });
});
