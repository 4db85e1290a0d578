import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { exitCodeOf, PartialError, type KvmctlError } from '../../../../src/errors.js';
import { runPoolDelete } from '../../../../src/commands/pool/delete.js';
import { mutations, outcome } from '../../../support/harness.js';
import { batchArgv, batchOut, fakeFiles, stubDomains, stubStorage, testContext, URI, virshFailure, type FakePool, type StorageState } from '../../storage-harness.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };
const REMOTE = 'qemu+ssh://root@kvm1/system';
const virshAt = (uri: string, ...args: string[]) => ['virsh', '-c', uri, ...args];
const rm = (...paths: string[]) => ['rm', '-f', '--', ...paths];
/**
 * pool-delete and pool-undefine in one virsh process, as virsh 9 answers them (recorded in the lab): the
 * directory removed, or (notEmpty) kept with libvirt's reason, a failed command's section being a blank line.
 */
const finish = (uri: string, pool: string, notEmpty?: string): [string[], { stdout: string; stderr?: string }] => [
  batchArgv(uri, [['pool-delete', '--pool', pool], ['pool-undefine', '--pool', pool]], true),
  notEmpty === undefined
    ? { stdout: batchOut([`Pool ${pool} deleted\n\n`, `Pool ${pool} has been undefined\n\n`]) }
    : { stdout: batchOut(['\n', `Pool ${pool} has been undefined\n\n`]), stderr: `error: Failed to delete pool ${pool}\nerror: ${notEmpty}\n` },
];

describe('pool delete', () => {
  it('a pool holding volumes is exit 5 listing them, unless --force', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }, { users: [] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', {}));
    expect(r).toEqual({ code: 5, message: 'storage pool p holds 2 volume(s): a.qcow2, b.raw' });
    expect(mutations(runner)).toEqual([]);
  });

  it('a volume used by any VM blocks it even with --force', async () => {
    const state: StorageState = { pools: [full], domains: [{ name: 'vm1', state: 5, disks: [{ file: '/pools/p/b.raw', target: 'vda' }] }] };
    // A shut-off VM with a plain file disk is known from domstats alone: no dumpxml.
    const runner = stubStorage(new FakeRunner(), state, { users: [] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', { force: true, purge: true }));
    runner.verify();
    expect(r).toMatchObject({ code: 5, message: 'storage pool p has volumes used by VMs: b.raw by vm1 (shutoff)' });
    expect(mutations(runner)).toEqual([]);
  });

  it('an inactive pool: a VM with a file in its directory (from domstats) or one of its volumes (from XML) blocks it', async () => {
    const state: StorageState = {
      pools: [{ ...full, state: 'inactive' }],
      domains: [
        { name: 'vm1', state: 5, disks: [{ file: '/pools/p/b.raw', target: 'vda' }] },
        { name: 'vm2', state: 5, disks: [{ pool: 'p', volume: 'a.qcow2', target: 'vdb' }] },
        { name: 'vm3', state: 5, disks: [{ file: '/elsewhere/c.raw', target: 'vda' }] },
      ],
    };
    const runner = stubStorage(new FakeRunner(), state, { users: ['vm2'] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', { force: true }));
    runner.verify();
    expect(r).toMatchObject({ code: 5, message: 'storage pool p has volumes used by VMs: /pools/p/b.raw by vm1 (shutoff), a.qcow2 by vm2 (shutoff)' });
    expect(mutations(runner)).toEqual([]);
  });

  it('--force keeps the files: stop and undefine only', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }, { users: [] }).stub(virsh('pool-destroy', '--pool', 'p'), {}).stub(virsh('pool-undefine', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true });
    runner.verify();
    expect(io.out).toBe('storage pool p deleted, its 2 volume file(s) kept; /pools/p was kept\n');
  });

  it('--force --purge deletes only the volumes (their files, locally), then the directory if that empties it', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }, { users: [] })
      .stub(rm('/pools/p/a.qcow2', '/pools/p/b.raw'), {})
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(...finish(URI, 'p', "failed to remove pool '/pools/p': Directory not empty"));
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true });
    runner.verify();
    expect(io.out).toBe("storage pool p deleted, 2 volume(s) deleted; /pools/p was kept: failed to remove pool '/pools/p': Directory not empty\n");
  });

  it('on a remote host libvirt deletes the volumes (vol-delete), never a local rm', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full], uri: REMOTE }, { users: [] })
      .stub(batchArgv(REMOTE, [['vol-delete', '--pool', 'p', '--vol', 'a.qcow2'], ['vol-delete', '--pool', 'p', '--vol', 'b.raw']], true), { stdout: batchOut(['Vol a.qcow2 deleted\n\n', 'Vol b.raw deleted\n\n']) })
      .stub(virshAt(REMOTE, 'pool-destroy', '--pool', 'p'), {})
      .stub(...finish(REMOTE, 'p'));
    const { ctx, io } = testContext(runner, { uri: REMOTE });
    await runPoolDelete(ctx, 'p', { force: true, purge: true });
    runner.verify();
    expect(runner.calls.some((c) => c.program === 'rm')).toBe(false);
    expect(io.out).toBe('storage pool p deleted, 2 volume(s) deleted; /pools/p was removed\n');
  });

  it('--purge keeps a volume that a VM\'s overlay outside every pool stands on (read from its qcow2 header) and names it', async () => {
    // The recorded header's backing file is /etc/hostname: here a volume of a pool at /etc.
    const header = readFileSync(new URL('../../../fixtures/recorded/storage/images/backing.qcow2.head', import.meta.url));
    const etc: FakePool = { name: 'p', path: '/etc', volumes: [{ name: 'hostname', format: 'raw' }, { name: 'b.raw', format: 'raw' }] };
    // The overlay's header names a backing file, so its VM is read with dumpxml (the chain needs its declared format).
    const runner = stubStorage(new FakeRunner(), { pools: [etc], domains: [{ name: 'over', state: 5, disks: [{ file: '/srv/over.qcow2', target: 'vda', format: 'qcow2' }] }] }, { users: ['over'] })
      .stub(rm('/etc/b.raw'), {})
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(...finish(URI, 'p', "failed to remove pool '/etc': Directory not empty"));
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true }, fakeFiles({ '/srv/over.qcow2': { header } }));
    runner.verify();
    expect(io.out).toBe("storage pool p deleted, 1 volume(s) deleted (kept hostname: in the backing chain of VM over (disk /srv/over.qcow2)); /etc was kept: failed to remove pool '/etc': Directory not empty\n");
    expect(runner.calls.some((c) => c.mutates && c.args.join(' ').includes('hostname'))).toBe(false);
  });

  const big: FakePool = { name: 'big', path: '/pools/big', volumes: Array.from({ length: 1200 }, (_, i) => ({ name: `v${i}.img`, format: 'raw' })) };
  const isDeleteBatch = (c: Command) => c.mutates && (c.args[2] ?? '').startsWith("'vol-delete'");
  const isRm = (c: Command) => c.mutates && c.program === 'rm';
  // What virsh prints for a batch of vol-delete: "Vol NAME deleted" and a blank line for each.
  const answer = (cmd: Command) => ({
    stdout: batchOut([...(cmd.args[2] ?? '').matchAll(/'--vol' '([^']*)'/g)].map((m) => `Vol ${m[1]} deleted\n\n`)),
  });
  const bigRemote = () =>
    stubStorage(new FakeRunner(), { pools: [big], uri: REMOTE }, { users: [] })
      .stub(virshAt(REMOTE, 'pool-destroy', '--pool', 'big'), {})
      .stub(...finish(REMOTE, 'big'));

  it('--purge of 1200 local volume files removes them with rm, 250 paths a process, not one process per volume', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big] }, { users: [] })
      .stub(isRm, {}, Infinity)
      .stub(virsh('pool-destroy', '--pool', 'big'), {})
      .stub(...finish(URI, 'big'));
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    runner.verify();
    const removed = runner.calls.filter(isRm).map((c) => c.args.slice(2));
    expect(removed.map((paths) => paths.length)).toEqual([250, 250, 250, 250, 200]);
    expect(removed.flat()).toEqual(big.volumes!.map((v) => `/pools/big/${v.name}`));
    expect(runner.calls.filter(isDeleteBatch)).toEqual([]);
    expect(JSON.parse(io.out).volumesDeleted).toHaveLength(1200);
  });

  it('files rm could not remove go to libvirt, which names the one it cannot delete: exit 8, the pool kept', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big] }, { users: [] })
      .stub(isRm, (c) => (c.args.includes('/pools/big/v7.img') ? { exitCode: 1, stderr: "rm: cannot remove '/pools/big/v7.img': Permission denied\n" } : {}), Infinity)
      .stub(
        isDeleteBatch,
        (c) => {
          const r = answer(c);
          return { stdout: r.stdout.replace('Vol v7.img deleted\n\n', ''), stderr: "error: Failed to delete vol v7.img\nerror: cannot unlink file '/pools/big/v7.img': Permission denied\n" };
        },
        Infinity,
      );
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: "storage pool big: 1199 of 1200 volume(s) deleted, 1 left (cannot unlink file '/pools/big/v7.img': Permission denied); the pool was kept" });
    // Only the batch whose rm failed was handed to libvirt.
    expect(runner.calls.filter(isDeleteBatch).map((c) => [...(c.args[2] ?? '').matchAll(/'vol-delete'/g)].length)).toEqual([250]);
    expect(mutations(runner).filter((w) => /pool-destroy|pool-undefine|pool-delete/.test(w))).toEqual([]);
  });

  it('--purge of 1200 volumes on a remote host deletes them in a few mutating virsh processes, not one per volume', async () => {
    const runner = bigRemote().stub(isDeleteBatch, answer, Infinity);
    const { ctx, io } = testContext(runner, { output: 'json', uri: REMOTE });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    runner.verify();
    const batches = runner.calls.filter(isDeleteBatch);
    expect(batches.map((c) => [...(c.args[2] ?? '').matchAll(/'vol-delete'/g)].length)).toEqual([250, 250, 250, 250, 200]);
    expect(JSON.parse(io.out).volumesDeleted).toHaveLength(1200);
  });

  it('a volume libvirt cannot delete keeps the pool: exit 8 naming what is left, and no pool change runs', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big], uri: REMOTE }, { users: [] }).stub(
      isDeleteBatch,
      (c) => {
        const r = answer(c);
        // v7.img fails: its section is empty, and virsh says why on stderr.
        return c.args[2]?.includes("'v7.img'")
          ? { stdout: r.stdout.replace('Vol v7.img deleted\n\n', ''), stderr: "error: Failed to delete vol v7.img\nerror: cannot unlink file '/pools/big/v7.img': Permission denied\n" }
          : r;
      },
      Infinity,
    );
    const r = await outcome(runPoolDelete(testContext(runner, { uri: REMOTE }).ctx, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: "storage pool big: 1199 of 1200 volume(s) deleted, 1 left (cannot unlink file '/pools/big/v7.img': Permission denied); the pool was kept" });
    const failing = stubStorage(new FakeRunner(), { pools: [big], uri: REMOTE }, { users: [] }).stub(isDeleteBatch, (c) => ({ ...answer(c), stdout: '' }), Infinity);
    const err = await runPoolDelete(testContext(failing, { uri: REMOTE }).ctx, 'big', { force: true, purge: true }).catch((e: PartialError) => e);
    // Every volume left is named with the command that removes it, and the list stays short.
    expect((err as PartialError).leftovers.slice(0, 2)).toEqual([
      `volume big/v0.img (remove with: virsh -c ${REMOTE} vol-delete --pool big --vol v0.img)`,
      `volume big/v1.img (remove with: virsh -c ${REMOTE} vol-delete --pool big --vol v1.img)`,
    ]);
    expect((err as PartialError).leftovers).toHaveLength(21);
    expect((err as PartialError).leftovers[20]).toBe('and 1180 more');
    expect(mutations(runner).filter((w) => /pool-destroy|pool-undefine|pool-delete/.test(w))).toEqual([]);
    expect(runner.calls.filter((c) => c.mutates)).toHaveLength(5);
  });

  it('stops before the next batch once told to stop, and says how many are left (rm locally, vol-delete remotely)', async () => {
    for (const uri of [URI, REMOTE]) {
      const stop = new AbortController();
      const runner = stubStorage(new FakeRunner(), { pools: [big], uri }, { users: [] })
        .stub(isRm, () => (stop.abort(), {}), Infinity)
        .stub(isDeleteBatch, (c) => (stop.abort(), answer(c)), Infinity);
      const { ctx } = testContext(runner, { uri });
      const r = await outcome(runPoolDelete({ ...ctx, signal: stop.signal }, 'big', { force: true, purge: true }));
      expect(r).toEqual({ code: 8, message: 'storage pool big: 250 of 1200 volume(s) deleted, 950 left (interrupted); the pool was kept' });
      expect(runner.calls.filter((c) => c.mutates)).toHaveLength(1);
    }
  });

  it('--dry-run prints the deletes (rm locally, vol-delete batches remotely) and runs none of them', async () => {
    const local = stubStorage(new FakeRunner(), { pools: [big] }, { users: [] });
    const { ctx, io } = testContext(local, { dryRun: true });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    expect(local.calls.filter((c) => c.mutates)).toEqual([]);
    expect(io.err.match(/\[dry-run\] would run: rm -f -- \/pools\/big\/v0\.img /g)).toHaveLength(1);
    expect(io.err.match(/\[dry-run\] would run: rm -f --/g)).toHaveLength(5);
    const remote = stubStorage(new FakeRunner(), { pools: [big], uri: REMOTE }, { users: [] });
    const r = testContext(remote, { dryRun: true, uri: REMOTE });
    await runPoolDelete(r.ctx, 'big', { force: true, purge: true });
    expect(remote.calls.filter((c) => c.mutates)).toEqual([]);
    expect(r.io.err.match(/\[dry-run\] would run: virsh .*vol-delete/g)).toHaveLength(5);
  });

  it('an inactive pool needs --force (its volumes cannot be listed); a missing one is exit 3', async () => {
    const inactive = stubStorage(new FakeRunner(), { pools: [{ ...full, state: 'inactive' }] }, { users: [] });
    expect((await outcome(runPoolDelete(testContext(inactive).ctx, 'p', {}))).code).toBe(5);
    expect((await outcome(runPoolDelete(testContext(stubStorage(new FakeRunner(), { pools: [] }, { users: [] })).ctx, 'nope', {}))).code).toBe(3);
  });
});
