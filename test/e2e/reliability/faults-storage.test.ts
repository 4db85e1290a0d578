/**
 * Every state-changing step of vm create, vm clone, vm delete --remove-storage,
 * volume import and volume clone made to fail in turn (KVMCTL_FAULT=fail:K),
 * against the lab's real libvirtd and qemu-img: exit 7 and the host exactly as
 * before (domains, pools, volumes with checksums, networks, the pool's files,
 * the lab namespace) — or, for delete, exit 8 naming what is left and how to
 * remove it. A rollback that fails too is exit 8 with the command that cleans up.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliOk, faultSweep, journalFiles, lab, newStateDir, plannedSteps, printTally, record, removeStateDirs, snapshotHost, virsh, createPool, removePool } from './harness.js';

const POOL = 'rel-fault';
const poolDir = () => join(lab.dir, 'pools', POOL);
const guestDisk = () => join(lab.guestDir, 'disk.qcow2');
const SRC = 'rel-f-src';

let stateDir = '';
const o = () => ({ stateDir });
const snapshot = () => snapshotHost({ dirs: [poolDir()] });

function removeVm(name: string): void {
  virsh('destroy', '--domain', name);
  virsh('undefine', '--domain', name);
}

function deleteVolumes(...names: string[]): void {
  for (const n of names) virsh('vol-delete', '--pool', POOL, '--vol', n);
}

function cleanup(): void {
  for (const vm of [SRC, 'rel-f-new', 'rel-f-copy', 'rel-f-del', 'rel-f-left']) removeVm(vm);
  removePool(POOL, poolDir());
}

/** The "left behind" lines of an exit-8 message: what, and the command that removes it. */
function leftovers(stderr: string): Array<{ what: string; remove: string }> {
  const block = /^left behind:\n((?: {2}- .*\n)+)/m.exec(stderr)?.[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.startsWith('  - '))
    .map((l) => {
      const m = /^ {2}- (.*) \(remove with: (.*)\)$/.exec(l);
      if (!m) throw new Error(`unexpected leftover line: ${l}`);
      return { what: m[1]!, remove: m[2]! };
    });
}

/** Runs a command exactly as a person would paste it from the message. */
function paste(command: string): void {
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
}

describe('faults in storage and VM operations roll back to the exact before-state', () => {
  beforeAll(async () => {
    cleanup();
    stateDir = newStateDir();
    await createPool(POOL, poolDir(), o());
    await cliOk(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'base.qcow2'], o());
    // The clone source: an overlay on the base, an empty second disk and a cloud-init seed.
    await cliOk(['vm', 'create', SRC, '--image', `${POOL}/base.qcow2`, '--disk', 'size=8M', '--hostname', SRC, '--memory', '128M', '--no-start'], o());
  });
  afterAll(() => {
    cleanup();
    removeStateDirs();
    printTally();
  });

  it('vm create (overlay disk, network, cloud-init seed, start): every step', async () => {
    const args = ['vm', 'create', 'rel-f-new', '--image', `${POOL}/base.qcow2`, '--network', 'network=default', '--hostname', 'rel-f-new', '--memory', '128M'];
    const r = await faultSweep({
      args,
      label: 'vm create rel-f-new',
      o: o(),
      snapshot,
      checkSuccess: (ok) => {
        expect(ok.stdout).toMatch(/^vm rel-f-new created and started/);
        expect(virsh('domstate', '--domain', 'rel-f-new').stdout.trim()).toBe('running');
        expect(virsh('vol-info', '--pool', POOL, '--vol', 'rel-f-new.qcow2').code).toBe(0);
        expect(virsh('vol-info', '--pool', POOL, '--vol', 'rel-f-new-seed.iso').code).toBe(0);
      },
      // kvmctl's own delete, which also removes the serial log the running guest wrote.
      undoSuccess: () => cliOk(['vm', 'delete', 'rel-f-new', '--force', '--remove-storage'], o()),
    });
    expect(r.steps.map((s) => s.replace(/^virsh -c \S+ /, '').split(' ')[0])).toEqual(['vol-create', 'vol-create', 'vol-upload', 'define', 'start']);
    record('fault', 'vm create --image --network --hostname', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });

  it('vm create: an undo that fails too is exit 8, naming what is left and the command that removes it', async () => {
    const args = ['vm', 'create', 'rel-f-left', '--image', `${POOL}/base.qcow2`, '--hostname', 'rel-f-left', '--memory', '128M', '--no-start'];
    const before = snapshot();
    // Step 3 (vol-upload of the seed) fails; undo 1 (delete the seed) works; undo 2 (delete the overlay) fails.
    const r = await cli(args, { ...o(), fault: 'fail:3,fail:5' });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/^kvmctl: error: vm create rel-f-left failed: .*injected fault \(KVMCTL_FAULT\) at step 3: virsh .* vol-upload .*; undoing it also failed, so some of it is left$/m);
    const left = leftovers(r.stderr);
    expect(left.map((l) => l.what)).toEqual([`volume ${POOL}/rel-f-left.qcow2`]);
    expect(r.stderr).toMatch(/^hint: run the commands listed above to remove what is left$/m);
    expect(virsh('vol-info', '--pool', POOL, '--vol', 'rel-f-left.qcow2').code).toBe(0);
    expect(journalFiles(stateDir)).toEqual([]);
    for (const l of left) paste(l.remove);
    expect(snapshot()).toEqual(before);
    record('fault', 'vm create (rollback fails)', 'fail:3,fail:5: a step and then an undo fail; the printed command cleans up', 1);
  });

  it('vm clone (two disks copied, its own seed, then define): every step', async () => {
    const r = await faultSweep({
      args: ['vm', 'clone', SRC, 'rel-f-copy'],
      label: `vm clone ${SRC} rel-f-copy`,
      o: o(),
      snapshot,
      checkSuccess: (ok) => {
        expect(ok.stdout).toMatch(/^vm rel-f-copy cloned from rel-f-src/);
        expect(virsh('domstate', '--domain', 'rel-f-copy').stdout.trim()).toBe('shut off');
      },
      undoSuccess: () => {
        removeVm('rel-f-copy');
        deleteVolumes('rel-f-copy.qcow2', 'rel-f-copy-vdb.qcow2', 'rel-f-copy-seed.iso');
      },
    });
    // The source has a cloud-init seed: the clone gets its own (created, then uploaded).
    expect(r.steps.map((s) => s.replace(/^virsh -c \S+ /, '').split(' ')[0])).toEqual(['vol-create-from', 'vol-create-from', 'vol-create', 'vol-upload', 'define']);
    record('fault', 'vm clone', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });

  it('vm delete --remove-storage: every step; what is left is named with the command that removes it', async () => {
    const make = async () => {
      await cliOk(['vm', 'create', 'rel-f-del', '--image', `${POOL}/base.qcow2`, '--disk', 'size=8M', '--hostname', 'rel-f-del', '--memory', '128M', '--no-start'], o());
      // The serial log a guest that ran leaves beside its disk, listed by libvirt after a refresh.
      writeFileSync(join(poolDir(), 'rel-f-del.serial.log'), 'KVMCTL-GUEST-BOOTED\r\n');
      virsh('pool-refresh', '--pool', POOL);
    };
    const baseline = snapshot();
    await make();
    const args = ['vm', 'delete', 'rel-f-del', '--remove-storage'];
    const steps = await plannedSteps(args, o());
    expect(steps.map((s) => s.replace(/^virsh -c \S+ /, '').split(' ').slice(0, 3).join(' '))).toEqual([
      'undefine --domain rel-f-del',
      'vol-delete --pool rel-fault',
      'vol-delete --pool rel-fault',
      'vol-delete --pool rel-fault',
      'pool-refresh --pool rel-fault',
      'vol-delete --pool rel-fault',
    ]);
    for (let k = 1; k <= steps.length; k++) {
      if (k > 1) await make();
      const before = snapshot();
      const r = await cli(args, { ...o(), fault: `fail:${k}` });
      const where = `fail:${k} (${steps[k - 1]})`;
      if (k === 1) {
        // The definition could not be removed: nothing was deleted, and the message says so.
        expect(r.code, where).not.toBe(0);
        expect(r.stderr, where).toMatch(/VM "rel-f-del".*injected fault \(KVMCTL_FAULT\) at step 1: .*undefine.*; nothing was deleted/);
        expect(snapshot(), where).toEqual(before);
        await cliOk(args, o());
      } else {
        expect(r.code, `${where}: ${r.stderr}`).toBe(8);
        expect(r.stderr, where).toMatch(/^kvmctl: error: VM "rel-f-del" was deleted, but /m);
        const left = leftovers(r.stderr);
        expect(left.length, where).toBe(1);
        const after = snapshot();
        expect(Object.keys(after.domains), where).not.toContain('rel-f-del');
        // Everything of the VM that still exists is named in the message.
        const mine = (s: typeof after) => [...Object.keys(s.volumes).filter((v) => v.startsWith(`${POOL}/rel-f-del`)), ...Object.keys(s.files).filter((f) => f.includes('/rel-f-del'))];
        for (const thing of mine(after)) expect(r.stderr, `${where}: ${thing} is left and must be named`).toContain(thing.replace(/^.*\//, ''));
        for (const l of left) paste(l.remove);
      }
      expect(snapshot(), `${where}: after doing what the message says`).toEqual(baseline);
    }
    record('fault', 'vm delete --remove-storage', 'fail:K for every step K; leftovers named and removed with the printed commands', steps.length + 1);
  });

  it('volume import (local pool: convert, publish, refresh): every step', async () => {
    const r = await faultSweep({
      args: ['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'imp.qcow2'],
      label: `volume import ${POOL}/imp.qcow2`,
      o: o(),
      snapshot,
      checkSuccess: (ok) => expect(ok.stdout).toMatch(/^imported .* as volume rel-fault\/imp\.qcow2/),
      undoSuccess: () => deleteVolumes('imp.qcow2'),
    });
    expect(r.steps.length).toBeGreaterThanOrEqual(3);
    record('fault', 'volume import', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });

  it('volume clone (full copy): every step', async () => {
    const r = await faultSweep({
      args: ['volume', 'clone', `${POOL}/base.qcow2`, 'cl.qcow2'],
      label: `volume clone ${POOL}/cl.qcow2`,
      o: o(),
      snapshot,
      checkSuccess: (ok) => expect(ok.stdout).toMatch(/^volume rel-fault\/cl\.qcow2 created as a full copy/),
      undoSuccess: () => deleteVolumes('cl.qcow2'),
    });
    record('fault', 'volume clone', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });
});
