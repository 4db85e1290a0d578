/**
 * kvmctl volume against the lab host, with real images: the lab's bootable
 * qcow2 imported, cloned, resized, converted, snapshotted and deleted, each
 * result checked with qemu-img and virsh; every refusal leaves the pool's
 * files byte-identical.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineDiskVm, lab, virsh, type RunResult } from './lab.js';
import { run, runJson } from './storage-run.js';
import { hashFiles, snapshotHost } from './host-state.js';

const POOL = 'e2e-volume';
const VM = 'e2e-volume-vm';
const poolDir = () => join(lab.dir, 'pools', POOL);
const scratch = () => join(lab.dir, 'pools', `${POOL}-scratch`);
const path = (name: string) => join(poolDir(), name);
const guestDisk = () => join(lab.guestDir, 'disk.qcow2');

function tool(cmd: string, ...args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function imageInfo(file: string, format: string): { format: string; 'virtual-size': number; 'backing-filename'?: string; 'backing-filename-format'?: string; snapshots?: Array<{ name: string }> } {
  const r = tool('qemu-img', 'info', '-U', '--output=json', '-f', format, file);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const volNames = () =>
  virsh('vol-list', '--pool', POOL)
    .stdout.split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n))
    .sort();

const poolFiles = () => hashFiles(poolDir());
/** Everything libvirt knows (domains, pools, volumes) and every file of the pool. */
const state = () => snapshotHost({ dirs: [poolDir()], netns: '' });

function removeVm(): void {
  virsh('destroy', '--domain', VM);
  virsh('undefine', '--domain', VM);
}

/** A VM defined straight with virsh (type qemu: the lab has no usable KVM) whose disk is the given volume. */
function defineVm(disk: string, format: string): void {
  defineDiskVm(VM, disk, format, scratch());
}

function cleanup(): void {
  removeVm();
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(poolDir(), { recursive: true, force: true });
  rmSync(scratch(), { recursive: true, force: true });
}

describe('kvmctl volume (against the lab host, with real images)', () => {
  beforeAll(async () => {
    cleanup();
    mkdirSync(scratch(), { recursive: true });
    const r = await run(['pool', 'create', POOL, '--path', poolDir()]);
    if (r.code !== 0) throw new Error(`pool create: ${r.stderr}`);
  });
  afterAll(cleanup);

  it("imports the lab's bootable qcow2: same content, format and size, listed by virsh; again is unchanged", async () => {
    const r = await run(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'base.qcow2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported .*disk\.qcow2 \(qcow2\) as volume e2e-volume\/base\.qcow2 \(qcow2, 64\.0 MiB\)\n$/);
    expect(imageInfo(path('base.qcow2'), 'qcow2')).toMatchObject({ format: 'qcow2', 'virtual-size': imageInfo(guestDisk(), 'qcow2')['virtual-size'] });
    expect(tool('qemu-img', 'compare', '-f', 'qcow2', '-F', 'qcow2', guestDisk(), path('base.qcow2')).code).toBe(0);
    expect(volNames()).toEqual(['base.qcow2']);
    // No temporary file is left next to it.
    expect(Object.keys(poolFiles())).toEqual([path('base.qcow2')]);

    const files = poolFiles();
    const again = await run(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'base.qcow2']);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(/already holds .*: unchanged\n$/) });
    expect(poolFiles()).toEqual(files);
  });

  it('a volume whose name is not ASCII is listed, found and deleted by that name (programs run in C.UTF-8, not C)', async () => {
    const name = 'ü-nicode €.img';
    writeFileSync(path(name), Buffer.alloc(4096));
    expect(virsh('pool-refresh', '--pool', POOL).code).toBe(0);
    const listed = await runJson<Array<{ name: string; path: string }>>(['volume', 'list', '--pool', POOL]);
    expect(listed.find((v) => v.name === name)).toMatchObject({ name, path: path(name) });
    const names = await run(['-o', 'name', 'volume', 'list', '--pool', POOL]);
    expect(names.stdout.split('\n')).toContain(`${POOL}/${name}`);
    const info = await run(['volume', 'info', `${POOL}/${name}`]);
    expect(info.code).toBe(0);
    const del = await run(['volume', 'delete', `${POOL}/${name}`]);
    expect(del.stderr).toBe('');
    expect(del.code).toBe(0);
    expect(Object.keys(poolFiles())).not.toContain(path(name));
    expect(volNames()).not.toContain(name);
  });

  it('refuses images that refer to other files (exit 5), leaving the pool byte-identical; the explicit allowance flattens them', async () => {
    const evil = join(scratch(), 'evil.qcow2');
    tool('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', evil, '1M');
    const flat = join(scratch(), 'flat.vmdk');
    writeFileSync(flat, '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "/etc/hostname" 0\n');
    const before = state();
    const a = await run(['volume', 'import', evil, '--pool', POOL]);
    expect(a.code).toBe(5);
    expect(a.stderr).toMatch(/refers to other files \(backing file \/etc\/hostname\)/);
    expect(a.stderr).toMatch(/--format qcow2 --allow-external-refs/);
    const b = await run(['volume', 'import', flat, '--pool', POOL]);
    expect(b.code).toBe(5);
    expect(b.stderr).toMatch(/vmdk extent \/etc\/hostname/);
    const c = await run(['volume', 'import', evil, '--pool', POOL, '--allow-external-refs']);
    expect(c).toMatchObject({ code: 2, stderr: expect.stringMatching(/--allow-external-refs needs --format/) });
    expect(state()).toEqual(before);

    const ok = await run(['volume', 'import', evil, '--pool', POOL, '--format', 'qcow2', '--allow-external-refs', '--name', 'flattened.qcow2']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/copying the data of backing file \/etc\/hostname/);
    expect(imageInfo(path('flattened.qcow2'), 'qcow2')['backing-filename']).toBeUndefined();
    expect((await run(['volume', 'delete', `${POOL}/flattened.qcow2`])).code).toBe(0);
  });

  it('imports a VMware vmdk converted to qcow2, and a raw disk whose guest wrote a qcow2 header as raw when told --format raw', async () => {
    const vmdk = join(scratch(), 'appliance.vmdk');
    expect(tool('qemu-img', 'convert', '-f', 'qcow2', '-O', 'vmdk', guestDisk(), vmdk).code).toBe(0);
    const a = await run(['volume', 'import', vmdk, '--pool', POOL, '--to', 'qcow2']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/\(vmdk\) as volume e2e-volume\/appliance\.qcow2 \(qcow2, 64\.0 MiB\)/);
    expect(tool('qemu-img', 'compare', '-f', 'vmdk', '-F', 'qcow2', vmdk, path('appliance.qcow2')).code).toBe(0);

    // The probing trap: raw bytes that look like a qcow2 pointing at a host file.
    const raw = join(scratch(), 'guest.raw');
    tool('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', raw, '1M');
    tool('truncate', '-s', '1M', raw); // a disk is whole sectors
    const before = poolFiles();
    expect((await run(['volume', 'import', raw, '--pool', POOL])).code).toBe(5);
    expect(poolFiles()).toEqual(before);
    const b = await run(['volume', 'import', raw, '--pool', POOL, '--format', 'raw']);
    expect(b.code).toBe(0);
    expect(poolFiles()[path('guest.raw')]).toBe(hashFiles(scratch())[raw]);
    expect(imageInfo(path('guest.raw'), 'raw')).toMatchObject({ format: 'raw' });
    for (const v of ['appliance.qcow2', 'guest.raw']) expect((await run(['volume', 'delete', `${POOL}/${v}`])).code).toBe(0);
  });

  it('never overwrites: an unrelated file at the target path or an existing volume is exit 4, untouched', async () => {
    writeFileSync(path('stray.qcow2'), 'not an image\n');
    const before = state();
    const a = await run(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'stray.qcow2']);
    expect(a.code).toBe(4);
    expect(a.stderr).toMatch(/a file that is not a volume of pool e2e-volume already exists at .*stray\.qcow2; kvmctl never overwrites it/);
    const b = await run(['volume', 'create', 'stray.qcow2', '--pool', POOL, '--size', '1M']);
    expect(b.code).toBe(4);
    const c = await run(['volume', 'create', 'base.qcow2', '--pool', POOL, '--size', '1G']);
    expect(c.code).toBe(4);
    expect(c.stderr).toMatch(/already exists with another spec/);
    expect(state()).toEqual(before);
    rmSync(path('stray.qcow2'));
  });

  it('a linked clone is a qcow2 overlay on the base, its format stated', async () => {
    const r = await run(['volume', 'clone', `${POOL}/base.qcow2`, 'web.qcow2', '--linked']);
    expect(r.code).toBe(0);
    expect(imageInfo(path('web.qcow2'), 'qcow2')).toMatchObject({ format: 'qcow2', 'backing-filename': path('base.qcow2'), 'backing-filename-format': 'qcow2' });
    expect((await run(['volume', 'clone', `${POOL}/base.qcow2`, 'web.qcow2', '--linked'])).stdout).toMatch(/unchanged/);
    const list = await runJson<Array<{ name: string; backingFile?: string; dependents: string[] }>>(['volume', 'list', '--pool', POOL]);
    expect(list.find((v) => v.name === 'web.qcow2')?.backingFile).toBe(path('base.qcow2'));
    expect(list.find((v) => v.name === 'base.qcow2')?.dependents).toEqual([`${POOL}/web.qcow2`]);
  });

  it('resize grows (+64M); shrinking without --shrink is exit 5 with the files byte-identical; --shrink shrinks', async () => {
    expect((await run(['volume', 'resize', `${POOL}/web.qcow2`, '+64M'])).code).toBe(0);
    expect(imageInfo(path('web.qcow2'), 'qcow2')['virtual-size']).toBe(128 * 2 ** 20);
    const files = poolFiles();
    const r = await run(['volume', 'resize', `${POOL}/web.qcow2`, '96M']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/shrinking e2e-volume\/web\.qcow2 from 128\.0 MiB to 96\.0 MiB/);
    expect((await run(['volume', 'resize', `${POOL}/web.qcow2`, '-5G'])).code).toBe(2);
    expect((await run(['volume', 'resize', `${POOL}/web.qcow2`, '10GG'])).code).toBe(2);
    expect(poolFiles()).toEqual(files);
    expect((await run(['volume', 'resize', `${POOL}/web.qcow2`, '96M', '--shrink'])).code).toBe(0);
    expect(imageInfo(path('web.qcow2'), 'qcow2')['virtual-size']).toBe(96 * 2 ** 20);
    expect((await runJson(['volume', 'info', `${POOL}/web.qcow2`]))).toMatchObject({ virtualSizeBytes: 96 * 2 ** 20, capacityBytes: 96 * 2 ** 20 });
  });

  it('--dry-run of convert prints the exact qemu-img argv and writes nothing', async () => {
    const before = state();
    const r = await run(['volume', 'convert', `${POOL}/web.qcow2`, '--to', 'raw', '--dry-run']);
    expect(r.code).toBe(0);
    const planned = r.stderr.split('\n').filter((l) => l.startsWith('[dry-run] would run: '));
    expect(planned[0]).toMatch(new RegExp(`^\\[dry-run\\] would run: qemu-img convert -f qcow2 -O raw ${path('web.qcow2')} ${poolDir()}/\\.web\\.raw\\.kvmctl-[0-9a-f]{8}\\.part$`));
    expect(planned.slice(1).map((l) => l.split(' ')[3])).toEqual(['chmod', 'ln', 'rm', 'virsh']);
    expect(state()).toEqual(before);
  });

  it('convert to raw writes a standalone copy with the same content, leaves the source, and virsh lists it', async () => {
    const src = poolFiles()[path('web.qcow2')];
    const r = await run(['volume', 'convert', `${POOL}/web.qcow2`, '--to', 'raw']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/converted e2e-volume\/web\.qcow2 \(qcow2\) to e2e-volume\/web\.raw \(raw, 96\.0 MiB\)/);
    expect(imageInfo(path('web.raw'), 'raw')).toMatchObject({ format: 'raw', 'virtual-size': 96 * 2 ** 20 });
    expect(tool('qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', path('web.qcow2'), path('web.raw')).code).toBe(0);
    expect(poolFiles()[path('web.qcow2')]).toBe(src);
    expect(volNames()).toEqual(['base.qcow2', 'web.qcow2', 'web.raw']);
    expect((await run(['volume', 'convert', `${POOL}/web.qcow2`, '--to', 'raw'])).stdout).toMatch(/already a raw copy .*: unchanged/);
  });

  it('snapshot create, list, revert and delete: reverting brings the data back', async () => {
    const v = `${POOL}/web.qcow2`;
    const io = (cmd: string) => tool('qemu-io', '-f', 'qcow2', '-c', cmd, path('web.qcow2'));
    expect(io('write -P 0x11 0 64k').code).toBe(0);
    expect((await run(['volume', 'snapshot', 'create', v, 'before'])).code).toBe(0);
    expect((await run(['volume', 'snapshot', 'create', v, 'before'])).stdout).toMatch(/already exists .*: unchanged/);
    expect(io('write -P 0x22 0 64k').code).toBe(0);
    expect(io('read -P 0x22 0 64k').code).toBe(0);
    const list = await runJson<Array<{ name: string; id: string }>>(['volume', 'snapshot', 'list', v]);
    expect(list.map((s) => s.name)).toEqual(['before']);
    expect((await run(['volume', 'snapshot', 'revert', v, 'before'])).code).toBe(0);
    // qemu-io exits 1 with "Pattern verification failed" when the data differs.
    expect(io('read -P 0x11 0 64k')).toMatchObject({ code: 0, stdout: expect.not.stringMatching(/Pattern verification failed/) });
    expect((await run(['volume', 'snapshot', 'revert', v, 'nosuch'])).code).toBe(3);
    expect((await run(['volume', 'snapshot', 'create', `${POOL}/web.raw`, 's'])).code).toBe(5);
    expect((await run(['volume', 'snapshot', 'delete', v, 'before'])).code).toBe(0);
    expect(imageInfo(path('web.qcow2'), 'qcow2').snapshots ?? []).toEqual([]);
  });

  it('delete refuses a backing file (exit 5, even with --force) and a disk of a defined VM unless --force', async () => {
    const before = state();
    const base = await run(['volume', 'delete', `${POOL}/base.qcow2`, '--force']);
    expect(base.code).toBe(5);
    expect(base.stderr).toMatch(/is the backing file of e2e-volume\/web\.qcow2/);
    defineVm(path('web.raw'), 'raw');
    const listed = await runJson<Array<{ name: string; users: Array<{ vm: string; state: string }> }>>(['volume', 'list', '--pool', POOL]);
    expect(listed.find((v) => v.name === 'web.raw')?.users).toEqual([expect.objectContaining({ vm: VM, state: 'shutoff', target: 'vda' })]);
    const used = await run(['volume', 'delete', `${POOL}/web.raw`]);
    expect(used.code).toBe(5);
    expect(used.stderr).toMatch(/is a disk of VM\(s\) e2e-volume-vm \(shutoff, vda\)/);
    expect(snapshotHost({ dirs: [poolDir()], netns: '' }).files).toEqual(before.files);
    const forced = await run(['volume', 'delete', `${POOL}/web.raw`, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning: VM\(s\) e2e-volume-vm .* will not start/);
    expect(volNames()).toEqual(['base.qcow2', 'web.qcow2']);
    removeVm();
  });

  it('a running VM: delete is refused even with --force, resize goes live through libvirt, snapshots are refused', async () => {
    expect((await run(['volume', 'create', 'live.qcow2', '--pool', POOL, '--size', '32M'])).code).toBe(0);
    defineVm(path('live.qcow2'), 'qcow2');
    const start = virsh('start', '--domain', VM);
    expect(start.stderr).toBe('');
    try {
      const before = poolFiles();
      const del = await run(['volume', 'delete', `${POOL}/live.qcow2`, '--force']);
      expect(del.code).toBe(5);
      expect(del.stderr).toMatch(/in use by running VM\(s\) e2e-volume-vm \(running, vda\)/);
      const snap = await run(['volume', 'snapshot', 'create', `${POOL}/live.qcow2`, 's1']);
      expect(snap.code).toBe(5);
      const shrink = await run(['volume', 'resize', `${POOL}/live.qcow2`, '16M', '--shrink']);
      expect(shrink.code).toBe(5);
      expect(poolFiles()).toEqual(before);

      const grow = await run(['volume', 'resize', `${POOL}/live.qcow2`, '+32M']);
      expect(grow.code).toBe(0);
      expect(grow.stdout).toMatch(/grown from 32\.0 MiB to 64\.0 MiB while e2e-volume-vm runs/);
      expect(virsh('domblkinfo', '--domain', VM, '--device', 'vda').stdout).toMatch(/Capacity:\s+67108864/);
      expect(imageInfo(path('live.qcow2'), 'qcow2')['virtual-size']).toBe(64 * 2 ** 20);
    } finally {
      removeVm();
    }
    expect((await run(['volume', 'delete', `${POOL}/live.qcow2`])).code).toBe(0);
  });

  it('concurrent creates of one name: one creates it, the rest say unchanged; with different sizes the rest are exit 4', async () => {
    const same = await Promise.all([1, 2, 3, 4].map(() => run(['volume', 'create', 'race.qcow2', '--pool', POOL, '--size', '8M'])));
    expect(same.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(same.filter((r) => /created/.test(r.stdout))).toHaveLength(1);
    expect(same.filter((r) => /unchanged/.test(r.stdout))).toHaveLength(3);
    const files = poolFiles();
    const diff = await Promise.all(['9M', '10M', '11M'].map((s) => run(['volume', 'create', 'race.qcow2', '--pool', POOL, '--size', s])));
    expect(diff.map((r) => r.code)).toEqual([4, 4, 4]);
    expect(poolFiles()).toEqual(files);
    expect((await run(['volume', 'delete', `${POOL}/race.qcow2`])).code).toBe(0);
  });

  it("sizes: junk is exit 2, beyond the pool's free space exit 5 unless --allow-overcommit; nothing written when refused", async () => {
    const before = state();
    for (const size of ['0', '-1G', '10GG', '1.5', '99999P']) {
      const r = await run(['volume', 'create', 'big.qcow2', '--pool', POOL, '--size', size]);
      expect([size, r.code]).toEqual([size, 2]);
    }
    const big = await run(['volume', 'create', 'big.qcow2', '--pool', POOL, '--size', '1P']);
    expect(big.code).toBe(5);
    expect(big.stderr).toMatch(/volume e2e-volume\/big\.qcow2 would need up to 1\.0 PiB, more than the .* free in pool e2e-volume/);
    expect(state()).toEqual(before);
    const thin = await run(['volume', 'create', 'big.qcow2', '--pool', POOL, '--size', '1P', '--allow-overcommit']);
    expect(thin.code).toBe(0);
    expect(imageInfo(path('big.qcow2'), 'qcow2')['virtual-size']).toBe(2 ** 50);
    expect((await run(['volume', 'delete', `${POOL}/big.qcow2`])).code).toBe(0);
  });

  it('local-only features against a remote URI are exit 5 and say so, before connecting', async () => {
    const r = await run(['-c', 'qemu+ssh://root@kvm-remote.invalid/system', 'volume', 'snapshot', 'list', `${POOL}/web.qcow2`]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/volume snapshots run qemu-img on the pool's files, and qemu\+ssh:\/\/root@kvm-remote\.invalid\/system is another host: this is a local-only feature/);
  });

  it('list and info answer in JSON; a missing volume is exit 3', async () => {
    const list = await runJson<Array<{ pool: string; name: string; format: string; capacityBytes: number }>>(['volume', 'list']);
    expect(list.filter((v) => v.pool === POOL).map((v) => `${v.name}:${v.format}`)).toEqual(['base.qcow2:qcow2', 'web.qcow2:qcow2']);
    const info = await runJson(['volume', 'info', `${POOL}/web.qcow2`]);
    expect(info).toMatchObject({ pool: POOL, name: 'web.qcow2', format: 'qcow2', backingChain: [{ path: path('base.qcow2'), format: 'qcow2' }], snapshots: [], users: [] });
    const table = await run(['volume', 'info', `${POOL}/web.qcow2`]);
    expect(table.stdout).toMatch(/^backing file\s+e2e-volume\/base\.qcow2 \(qcow2\)$/m);
    expect((await run(['volume', 'info', `${POOL}/nope`]))).toMatchObject({ code: 3, stderr: expect.stringMatching(/volume e2e-volume\/nope not found/) });
  });

  it('deleting the overlay, then its base, empties the pool', async () => {
    expect((await run(['volume', 'delete', `${POOL}/web.qcow2`])).code).toBe(0);
    expect((await run(['volume', 'delete', `${POOL}/base.qcow2`])).code).toBe(0);
    expect(volNames()).toEqual([]);
    expect(Object.keys(poolFiles())).toEqual([]);
  });
});
