import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import type { Command } from '../../src/exec/command.js';
import { exitCodeOf } from '../../src/errors.js';
import { runVolumeCreate } from '../../src/commands/volume/create.js';
import { runVolumeDelete } from '../../src/commands/volume/delete.js';
import { newCapacity, parseSizeChange, runVolumeResize } from '../../src/commands/volume/resize.js';
import { runVolumeImport } from '../../src/commands/volume/import.js';
import { runVolumeClone } from '../../src/commands/volume/clone.js';
import { runVolumeConvert } from '../../src/commands/volume/convert.js';
import { runVolumeList } from '../../src/commands/volume/list.js';
import { runVolumeInfo } from '../../src/commands/volume/info.js';
import { runVolumeSnapshotCreate as runSnapshotCreate } from '../../src/commands/volume/snapshot/create.js';
import { runVolumeSnapshotList as runSnapshotList } from '../../src/commands/volume/snapshot/list.js';
import { runVolumeSnapshotRevert as runSnapshotRevert } from '../../src/commands/volume/snapshot/revert.js';
import { nameForFormat } from '../../src/storage/volume-checks.js';
import { refuseUnsafeVolumes } from '../../src/storage/inventory.js';
import type { PoolRecord } from '../../src/libvirt/storage.js';
import { progressShown, progressText } from '../../src/storage/progress.js';
import { fakeFiles, stubStorage, testContext, URI, virshFailure, type FakePool, type StorageState } from './storage-harness.js';
import { isVolCreate, volCopy, volCreate, volumeXml } from './volume-match.js';

const GiB = 2 ** 30;
const IMAGES = new URL('../fixtures/recorded/storage/images/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, IMAGES));

const pool = (volumes: FakePool['volumes'] = [], extra: Partial<FakePool> = {}): FakePool => ({ name: 'p', path: '/pools/p', volumes, ...extra });
const argvIs = (...argv: string[]) => argv;
const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];

async function codeOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
    return { code: 0, message: '' };
  } catch (e) {
    return { code: exitCodeOf(e), message: (e as Error).message };
  }
}

function writes(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.mutates).map((c) => [c.program, ...c.args].join(' '));
}

describe('volume create', () => {
  it('runs one vol-create with the size in bytes, thin, and says what it made', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false }).stub(
      volCreate(URI, 'p', { name: 'web.qcow2', capacityBytes: 20 * GiB, allocationBytes: 0, format: 'qcow2' }),
      { stdout: 'Vol web.qcow2 created\n' },
    );
    const { ctx, io } = testContext(runner);
    await runVolumeCreate(ctx, 'web.qcow2', { pool: 'p', size: '20G' }, fakeFiles());
    runner.verify();
    expect(io.out).toBe('volume p/web.qcow2 created (qcow2, 20.0 GiB)\n');
  });

  it('an overlay states its backing format with the backing path, and takes the backing size by default', async () => {
    const base = { name: 'base.raw', format: 'raw', capacity: 4 * GiB };
    const runner = stubStorage(new FakeRunner(), { pools: [pool([base])] }, { domains: false }).stub(
      volCreate(URI, 'p', { name: 'o.qcow2', capacityBytes: 4 * GiB, allocationBytes: 0, format: 'qcow2', backing: { path: '/pools/p/base.raw', format: 'raw' } }),
      {},
    );
    const { ctx } = testContext(runner);
    await runVolumeCreate(ctx, 'o.qcow2', { pool: 'p', backing: 'p/base.raw' }, fakeFiles());
    runner.verify();
  });

  it('in an LVM pool the allocation is left to libvirt: below the capacity it would make a snapshot volume that writes overflow', async () => {
    const lvm = pool([], { type: 'logical', path: '/dev/vg0' });
    const runner = stubStorage(new FakeRunner(), { pools: [lvm] }, { domains: false }).stub(volCreate(URI, 'p', { name: 'data', capacityBytes: 2 * GiB, format: 'raw' }), {});
    await runVolumeCreate(testContext(runner).ctx, 'data', { pool: 'p', size: '2G', format: 'raw' }, fakeFiles());
    runner.verify();
  });

  it('re-running with the same spec is "unchanged" (exit 0, nothing written); another spec is exit 4', async () => {
    const state: StorageState = { pools: [pool([{ name: 'web.qcow2', format: 'qcow2', capacity: 20 * GiB }])] };
    const same = stubStorage(new FakeRunner(), state, { domains: false });
    const a = testContext(same);
    await runVolumeCreate(a.ctx, 'web.qcow2', { pool: 'p', size: '20G' }, fakeFiles());
    expect(a.io.out).toBe('volume p/web.qcow2 already exists as asked: unchanged\n');
    expect(writes(same)).toEqual([]);

    const other = stubStorage(new FakeRunner(), state, { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(other).ctx, 'web.qcow2', { pool: 'p', size: '30G' }, fakeFiles()));
    expect(r).toEqual({ code: 4, message: 'volume p/web.qcow2 already exists with another spec (size 20.0 GiB -> 30.0 GiB)' });
    expect(writes(other)).toEqual([]);
  });

  it('an unrelated file at the target path is exit 4 and untouched', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(runner).ctx, 'web.qcow2', { pool: 'p', size: '1G' }, fakeFiles({ '/pools/p/web.qcow2': { sizeBytes: 6 } })));
    expect(r.code).toBe(4);
    expect(r.message).toMatch(/a file that is not a volume of pool p already exists at \/pools\/p\/web\.qcow2; kvmctl never overwrites it/);
    expect(writes(runner)).toEqual([]);
  });

  it('another process creating the same name first (libvirt: exists already) is exit 4', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false }).stub(
      isVolCreate,
      virshFailure("storage volume 'web.qcow2' exists already"),
    );
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, 'web.qcow2', { pool: 'p', size: '1G' }, fakeFiles()))).code).toBe(4);
  });

  it("a size beyond the pool's free space is exit 5 unless --allow-overcommit", async () => {
    const state = { pools: [pool([], { available: 10 * GiB })] };
    const refused = stubStorage(new FakeRunner(), state, { domains: false });
    const r = await codeOf(runVolumeCreate(testContext(refused).ctx, 'big', { pool: 'p', size: '20G' }, fakeFiles()));
    expect(r.code).toBe(5);
    expect(r.message).toBe('volume p/big would need up to 20.0 GiB, more than the 10.0 GiB free in pool p');
    const allowed = stubStorage(new FakeRunner(), state, { domains: false }).stub(isVolCreate, {});
    await runVolumeCreate(testContext(allowed).ctx, 'big', { pool: 'p', size: '20G', allowOvercommit: true }, fakeFiles());
    allowed.verify();
  });

  it.each(['0', '-1G', '10GG', '1e3', 'abc', '2000P', ''])('--size %j is exit 2 before anything runs', async (size) => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, 'v', { pool: 'p', size }, fakeFiles()))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it.each([['a/b'], ['..'], ['-v'], ['x\ty'], ['caf\u00e9']])('volume name %j is exit 2 before anything runs', async (name) => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeCreate(testContext(runner).ctx, name, { pool: 'p', size: '1G' }, fakeFiles()))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it('--dry-run prints the exact virsh argv and the volume XML, and changes nothing', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false });
    const { ctx, io } = testContext(runner, { dryRun: true });
    await runVolumeCreate(ctx, 'web.qcow2', { pool: 'p', size: '1G', format: 'raw' }, fakeFiles());
    expect(io.err).toBe(
      `[dry-run] would run: virsh -c qemu:///system vol-create --pool p --file /dev/stdin\n[dry-run] with input:\n${volumeXml({ name: 'web.qcow2', capacityBytes: GiB, allocationBytes: 0, format: 'raw' })}`,
    );
    expect(io.out).toBe('volume p/web.qcow2 created (raw, 1.0 GiB) (dry run: nothing was changed)\n');
    expect(writes(runner)).toEqual([]);
  });
});

const inUse: StorageState = {
  pools: [pool([{ name: 'base.qcow2' }, { name: 'o.qcow2', backing: { path: '/pools/p/base.qcow2', format: 'qcow2' } }, { name: 'web.qcow2' }, { name: 'old.qcow2' }])],
  domains: [
    { name: 'web', state: 1, disks: [{ file: '/pools/p/web.qcow2', target: 'vda' }] },
    { name: 'old', state: 5, disks: [{ pool: 'p', volume: 'old.qcow2', target: 'vdb' }] },
  ],
};

describe('volume delete', () => {
  it.each([
    ['p/web.qcow2', {}, 5, /in use by running VM\(s\) web \(running, vda\)/],
    ['p/web.qcow2', { force: true }, 5, /in use by running VM\(s\) web/],
    ['p/base.qcow2', { force: true }, 5, /is the backing file of p\/o\.qcow2/],
    ['p/old.qcow2', {}, 5, /is a disk of VM\(s\) old \(shutoff, vdb\)/],
    ['p/missing', {}, 3, /volume p\/missing not found/],
  ])('%s %j is exit %i, nothing deleted', async (ref, opts, code, message) => {
    const runner = stubStorage(new FakeRunner(), inUse);
    const r = await codeOf(runVolumeDelete(testContext(runner).ctx, ref, opts));
    expect(r.code).toBe(code);
    expect(r.message).toMatch(message);
    expect(writes(runner)).toEqual([]);
  });

  it('--force deletes a disk of a VM that is not running, and warns about the VM', async () => {
    const runner = stubStorage(new FakeRunner(), inUse).stub(virsh('vol-delete', '--pool', 'p', '--vol', 'old.qcow2'), {});
    const { ctx, io } = testContext(runner);
    await runVolumeDelete(ctx, 'p/old.qcow2', { force: true });
    runner.verify();
    expect(io.err).toMatch(/warning: VM\(s\) old \(shutoff, vdb\) still name \/pools\/p\/old\.qcow2/);
  });
});

describe('volume resize', () => {
  it('parses absolute sizes and +growth; negatives and junk are exit 2', () => {
    expect(parseSizeChange('20G')).toEqual({ kind: 'absolute', bytes: 20 * GiB });
    expect(parseSizeChange('+5G')).toEqual({ kind: 'grow', bytes: 5 * GiB });
    expect(newCapacity(GiB, { kind: 'grow', bytes: 1000 })).toBe(GiB + 1024);
    for (const bad of ['-5G', '+0', '+', '5GG', '+-1G']) expect(() => parseSizeChange(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('grows with vol-resize in bytes', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'v', capacity: GiB }])] }).stub(virsh('vol-resize', '--pool', 'p', '--vol', 'v', '--capacity', `${6 * GiB}b`), {});
    const { ctx, io } = testContext(runner);
    await runVolumeResize(ctx, 'p/v', '+5G', {});
    runner.verify();
    expect(io.out).toBe('volume p/v grown from 1.0 GiB to 6.0 GiB\n');
  });

  it('a volume that leads out of its pool through a symlink is never resized (exit 5, nothing run)', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'v', capacity: GiB }])] });
    const r = await codeOf(runVolumeResize(testContext(runner).ctx, 'p/v', '+5G', {}, fakeFiles({}, { '/pools/p/v': '/srv/outside.img' })));
    expect(r).toEqual({ code: 5, message: "volume p/v leads to /srv/outside.img, outside pool p's directory /pools/p: kvmctl does not resize a file outside the pool" });
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
  });

  it('shrinking needs --shrink (exit 5), then passes --shrink; the same size is unchanged', async () => {
    const state = { pools: [pool([{ name: 'v', capacity: 2 * GiB }])] };
    const r = await codeOf(runVolumeResize(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/v', '1G', {}));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/shrinking p\/v from 2\.0 GiB to 1\.0 GiB would cut off/) });
    const ok = stubStorage(new FakeRunner(), state).stub(virsh('vol-resize', '--pool', 'p', '--vol', 'v', '--capacity', `${GiB}b`, '--shrink'), {});
    await runVolumeResize(testContext(ok).ctx, 'p/v', '1G', { shrink: true });
    ok.verify();
    const same = testContext(stubStorage(new FakeRunner(), state));
    await runVolumeResize(same.ctx, 'p/v', '2G', {});
    expect(same.io.out).toBe('volume p/v is already 2.0 GiB: unchanged\n');
  });

  it('a disk of a running VM grows live through blockresize; shrinking it is refused', async () => {
    const state: StorageState = { pools: [pool([{ name: 'web.qcow2', capacity: GiB }])], domains: [{ name: 'web', state: 1, disks: [{ file: '/pools/p/web.qcow2', target: 'vda' }] }] };
    const live = stubStorage(new FakeRunner(), state)
      .stub(virsh('blockresize', '--domain', 'web', '--path', 'vda', '--size', `${2 * GiB}b`), {})
      .stub(virsh('pool-refresh', '--pool', 'p'), {});
    const { ctx, io } = testContext(live);
    await runVolumeResize(ctx, 'p/web.qcow2', '2G', {});
    live.verify();
    expect(io.out).toMatch(/grown from 1\.0 GiB to 2\.0 GiB while web runs/);
    const r = await codeOf(runVolumeResize(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/web.qcow2', '512M', { shrink: true }));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/running VM\(s\) web .* a live disk can only grow/) });
  });
});

describe('volume import', () => {
  const hostile = '/imgs/backing.qcow2';
  const files = fakeFiles({
    [hostile]: { sizeBytes: 196616, header: fixture('backing.qcow2.head') },
    '/imgs/plain.qcow2': { sizeBytes: 196616, header: fixture('plain.qcow2.head') },
  });

  it('refuses an image whose header names a backing file (exit 5) before any tool opens it', async () => {
    const runner = new FakeRunner();
    const r = await codeOf(runVolumeImport(testContext(runner).ctx, hostile, { pool: 'p' }, files));
    expect(r).toEqual({ code: 5, message: 'image /imgs/backing.qcow2 refers to other files (backing file /etc/hostname); importing it would read them' });
    expect(runner.calls).toEqual([]);
  });

  it('--allow-external-refs without --format is exit 2', async () => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeImport(testContext(runner).ctx, hostile, { pool: 'p', allowExternalRefs: true }, files))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it('a missing file is exit 3', async () => {
    expect((await codeOf(runVolumeImport(testContext(new FakeRunner()).ctx, '/imgs/none.qcow2', { pool: 'p' }, files))).code).toBe(3);
  });

  it('local pool: qemu-img converts to a temporary name, which is made private, linked into place, removed; then the pool is refreshed', async () => {
    const info = readFileSync(new URL('plain.qcow2.info.json', IMAGES), 'utf8');
    let tmp = '';
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub((c: Command) => c.program === 'qemu-img' && c.args[0] === 'convert', (c) => {
        tmp = c.args[6]!;
        return {};
      })
      .stub((c: Command) => c.program === 'chmod', {})
      .stub((c: Command) => c.program === 'ln', {})
      .stub((c: Command) => c.program === 'rm', {})
      .stub(virsh('pool-refresh', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeImport(ctx, '/imgs/plain.qcow2', { pool: 'p', to: 'raw' }, files);
    runner.verify();
    expect(tmp).toMatch(/^\/pools\/p\/\.plain\.raw\.kvmctl-[0-9a-f]{8}\.part$/);
    expect(writes(runner)).toEqual([
      `qemu-img convert -f qcow2 -O raw /imgs/plain.qcow2 ${tmp}`,
      `chmod 0600 -- ${tmp}`,
      `ln -T -- ${tmp} /pools/p/plain.raw`,
      `rm -f -- ${tmp}`,
      'virsh -c qemu:///system pool-refresh --pool p',
    ]);
    expect(JSON.parse(io.out)).toMatchObject({ pool: 'p', name: 'plain.raw', format: 'raw', sourceFormat: 'qcow2', capacityBytes: 1048576 });
    // No progress bar without a terminal.
    expect(io.err).toBe('');
  });

  it('a failed conversion leaves no file behind: the temporary name is removed, nothing is linked', async () => {
    const info = readFileSync(new URL('plain.qcow2.info.json', IMAGES), 'utf8');
    const runner = stubStorage(new FakeRunner(), { pools: [pool()] }, { domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub((c: Command) => c.program === 'qemu-img' && c.args[0] === 'convert', { exitCode: 1, stderr: 'qemu-img: error while writing: No space left on device\n' })
      .stub((c: Command) => c.program === 'rm', {});
    const r = await codeOf(runVolumeImport(testContext(runner).ctx, '/imgs/plain.qcow2', { pool: 'p' }, files));
    // Rolled back: exit 7, the host as before.
    expect(r.code).toBe(7);
    expect(r.message).toMatch(/^volume import p\/plain\.qcow2 failed: .*No space left on device.*; everything it had done was undone$/);
    runner.verify();
    expect(writes(runner).map((w) => w.split(' ')[0])).toEqual(['qemu-img', 'rm']);
  });

  it('remote pool: libvirt creates the volume and vol-upload streams the file (no qemu-img on the pool)', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const info = readFileSync(new URL('plain.qcow2.info.json', IMAGES), 'utf8');
    const r = (...args: string[]) => ['virsh', '-c', remote, ...args];
    const runner = stubStorage(new FakeRunner(), { pools: [pool()], uri: remote }, { domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub(volCreate(remote, 'p', { name: 'plain.qcow2', capacityBytes: 196616, allocationBytes: 0, format: 'raw' }), {})
      .stub(r('vol-upload', '--pool', 'p', '--vol', 'plain.qcow2', '--file', '/imgs/plain.qcow2', '--sparse'), {})
      .stub(r('pool-refresh', '--pool', 'p'), {});
    await runVolumeImport(testContext(runner, { uri: remote }).ctx, '/imgs/plain.qcow2', { pool: 'p' }, files);
    runner.verify();
  });

  it('default names follow the target format', () => {
    expect(nameForFormat('debian-12.qcow2', 'qcow2', 'raw')).toBe('debian-12.raw');
    expect(nameForFormat('appliance.vmdk', 'vmdk', 'qcow2')).toBe('appliance.qcow2');
    expect(nameForFormat('disk', 'raw', 'qcow2')).toBe('disk.qcow2');
    expect(nameForFormat('disk.img', 'raw', 'raw')).toBe('disk.img');
  });
});

describe('volume clone and convert', () => {
  it('--linked makes a qcow2 overlay on the source path with its format stated', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'base.qcow2', capacity: 8 * GiB }])] }).stub(
      volCreate(URI, 'p', { name: 'web.qcow2', capacityBytes: 8 * GiB, allocationBytes: 0, format: 'qcow2', backing: { path: '/pools/p/base.qcow2', format: 'qcow2' } }),
      {},
    );
    await runVolumeClone(testContext(runner).ctx, 'p/base.qcow2', 'web.qcow2', { linked: true }, fakeFiles());
    runner.verify();
  });

  it('a volume whose chain names a file outside every pool is never copied (exit 5, nothing run); a chain within the pools is fine', async () => {
    const probed = { pools: [pool([{ name: 'evil.img', format: 'qcow2', backing: { path: '/etc/shadow', format: 'raw' } }])] };
    for (const run of [
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeClone(ctx, 'p/evil.img', 'copy.img', {}, fakeFiles()),
      (ctx: Parameters<typeof runVolumeClone>[0]) => runVolumeConvert(ctx, 'p/evil.img', { to: 'raw' }, fakeFiles()),
    ]) {
      const runner = stubStorage(new FakeRunner(), probed);
      const r = await codeOf(run(testContext(runner).ctx));
      expect(r).toMatchObject({ code: 5, message: 'volume p/evil.img has a header naming /etc/shadow, which is no volume of any pool: kvmctl does not copy through it (a raw disk whose guest wrote a qcow2 header looks like this)' });
      expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    }
  });

  it('a volume a new VM would stand on: a symlink out of its pool or a chain to a file of no pool is exit 5 naming the volume; a chain within the pools reads nothing more', async () => {
    const dir: PoolRecord = { name: 'p', type: 'dir', state: 'running', active: true, autostart: false, persistent: true, targetPath: '/pools/p', source: { devices: [] } };
    const pools = new Map([['p', dir]]);
    const evil = { ref: { pool: 'p', volume: 'evil.img' }, path: '/pools/p/evil.img', backingFile: '/etc/shadow' };
    const probed = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'evil.img', format: 'qcow2', backing: { path: '/etc/shadow', format: 'raw' } }])] });
    const { ctx } = testContext(probed);
    expect(await codeOf(refuseUnsafeVolumes(ctx, [evil], pools, fakeFiles(), 'attach'))).toMatchObject({
      code: 5,
      message: 'volume p/evil.img has a header naming /etc/shadow, which is no volume of any pool: kvmctl does not attach through it (a raw disk whose guest wrote a qcow2 header looks like this)',
    });
    const link = { ref: { pool: 'p', volume: 'v' }, path: '/pools/p/v' };
    const e = await refuseUnsafeVolumes(ctx, [link], pools, fakeFiles({}, { '/pools/p/v': '/srv/outside.img' }), 'attach').catch((x: unknown) => x);
    expect({ code: exitCodeOf(e), message: (e as Error).message, object: (e as { object?: unknown }).object }).toEqual({
      code: 5,
      message: "volume p/v leads to /srv/outside.img, outside pool p's directory /pools/p: kvmctl does not attach a file outside the pool",
      object: { kind: 'volume', name: 'p/v' },
    });
    const quiet = new FakeRunner();
    await refuseUnsafeVolumes(testContext(quiet).ctx, [link], pools, fakeFiles(), 'attach');
    expect(quiet.calls).toEqual([]);
  });

  it('a linked clone of a disk VMs write to is refused (exit 5); a full copy is a sparse vol-create-from', async () => {
    const state: StorageState = { pools: [pool([{ name: 'base.qcow2' }])], domains: [{ name: 'old', state: 5, disks: [{ file: '/pools/p/base.qcow2', target: 'vda' }] }] };
    const r = await codeOf(runVolumeClone(testContext(stubStorage(new FakeRunner(), state)).ctx, 'p/base.qcow2', 'x.qcow2', { linked: true }, fakeFiles()));
    expect(r).toMatchObject({ code: 5, message: expect.stringMatching(/writable disk of old \(shutoff, vda\)/) });
    const full = stubStorage(new FakeRunner(), state).stub(volCopy(URI, 'p', 'base.qcow2', { name: 'x.qcow2', capacityBytes: GiB, format: 'qcow2' }), {});
    await runVolumeClone(testContext(full).ctx, 'p/base.qcow2', 'x.qcow2', {}, fakeFiles());
    full.verify();
  });

  it('a full copy in an LVM pool is as thick as libvirt makes it (no allocation asked)', async () => {
    const state: StorageState = { pools: [pool([{ name: 'base', format: 'raw', capacity: 4 * GiB }], { type: 'logical', path: '/dev/vg0' })] };
    const runner = stubStorage(new FakeRunner(), state).stub(volCopy(URI, 'p', 'base', { name: 'copy', capacityBytes: 4 * GiB, format: 'raw', allocationBytes: undefined }), {});
    await runVolumeClone(testContext(runner).ctx, 'p/base', 'copy', {}, fakeFiles());
    runner.verify();
  });

  it('remote convert asks libvirt (vol-create-from) with the new volume XML on stdin', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const runner = stubStorage(new FakeRunner(), { pools: [pool([{ name: 'web.qcow2', capacity: GiB }])], uri: remote }).stub(
      ['virsh', '-c', remote, 'vol-create-from', '--pool', 'p', '--file', '/dev/stdin', '--inputpool', 'p', '--vol', 'web.qcow2'],
      {},
    );
    await runVolumeConvert(testContext(runner, { uri: remote }).ctx, 'p/web.qcow2', { to: 'raw' }, fakeFiles());
    runner.verify();
    const call = runner.calls.find((c) => c.args.includes('vol-create-from'))!;
    expect(call.input).toContain('<name>web.raw</name>');
    expect(call.input).toContain(`<capacity unit="bytes">${GiB}</capacity>`);
    expect(call.input).toContain('<format type="raw"/>');
  });

  it('converting to the format it already has is exit 2', async () => {
    const r = await codeOf(runVolumeConvert(testContext(stubStorage(new FakeRunner(), { pools: [pool([{ name: 'a.raw', format: 'raw' }])] })).ctx, 'p/a.raw', { to: 'raw', name: 'b.raw' }, fakeFiles()));
    expect(r).toMatchObject({ code: 2, message: 'p/a.raw is already raw' });
  });
});

describe('volume list and info', () => {
  it('JSON lists every volume with its users and overlays, in constant calls', async () => {
    const runner = stubStorage(new FakeRunner(), inUse);
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeList(ctx, {});
    runner.verify();
    expect(runner.calls).toHaveLength(5);
    const vols = JSON.parse(io.out);
    expect(vols.find((v: { name: string }) => v.name === 'web.qcow2').users).toEqual([{ vm: 'web', state: 'running', active: true, target: 'vda', readonly: false }]);
    expect(vols.find((v: { name: string }) => v.name === 'base.qcow2').dependents).toEqual(['p/o.qcow2']);
  });

  it('the table names backing volumes as POOL/NAME and the VMs using each', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), inUse));
    await runVolumeList(ctx, {});
    expect(io.out).toMatch(/^p\s+o\.qcow2\s+qcow2\s+1\.0 GiB\s+196\.0 KiB\s+p\/base\.qcow2\s+-$/m);
    expect(io.out).toMatch(/^p\s+web\.qcow2 .* web \(running, vda\)$/m);
  });

  it('info on a remote host comes from libvirt alone and says snapshots are unavailable', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), { ...inUse, uri: remote }), { uri: remote, output: 'json' });
    await runVolumeInfo(ctx, 'p/o.qcow2');
    expect(JSON.parse(io.out)).toMatchObject({ name: 'o.qcow2', backingChain: [{ path: '/pools/p/base.qcow2', format: 'qcow2' }], snapshots: null });
  });
});

describe('volume snapshot', () => {
  it('is local-only: against a remote host it is exit 5 and says so', async () => {
    const runner = new FakeRunner();
    const r = await codeOf(runSnapshotList(testContext(runner, { uri: 'qemu+ssh://root@kvm1/system' }).ctx, 'p/v'));
    expect(r.code).toBe(5);
    expect(r.message).toMatch(/is another host: this is a local-only feature/);
    expect(runner.calls).toEqual([]);
  });

  it('needs qcow2 and no running VM', async () => {
    const raw = await codeOf(runSnapshotCreate(testContext(stubStorage(new FakeRunner(), { pools: [pool([{ name: 'a.raw', format: 'raw' }])] })).ctx, 'p/a.raw', 's1'));
    expect(raw).toMatchObject({ code: 5, message: expect.stringMatching(/internal snapshots need qcow2/) });
    const running = await codeOf(runSnapshotRevert(testContext(stubStorage(new FakeRunner(), inUse)).ctx, 'p/web.qcow2', 's1'));
    expect(running).toMatchObject({ code: 5, message: expect.stringMatching(/in use by running VM\(s\) web/) });
    const base = await codeOf(runSnapshotRevert(testContext(stubStorage(new FakeRunner(), inUse)).ctx, 'p/base.qcow2', 's1'));
    expect(base).toMatchObject({ code: 5, message: expect.stringMatching(/backing file of p\/o\.qcow2; reverting it would corrupt them/) });
  });

  it('all-digit names are exit 2 (qemu-img would read them as ids)', async () => {
    expect((await codeOf(runSnapshotCreate(testContext(new FakeRunner()).ctx, 'p/v', '12'))).code).toBe(2);
  });
});

describe('progress policy', () => {
  it('shows a bar only on a terminal, never with -o json, -q or --dry-run', () => {
    const r = new FakeRunner();
    expect(progressShown(testContext(r, { stderrIsTTY: true }).ctx)).toBe(true);
    expect(progressShown(testContext(r, { stderrIsTTY: false }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, output: 'json' }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, quiet: true }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, dryRun: true }).ctx)).toBe(false);
    expect(progressText('importing', 512 * 2 ** 20, 2 * GiB)).toBe('importing [######..................] 25% (512.0 MiB of about 2.0 GiB)');
    expect(progressText('importing', 3 * GiB, 2 * GiB)).toMatch(/ 99% /);
  });
});
