import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { exitCodeOf, PartialError, type KvmctlError } from '../../../../src/errors.js';
import { runPoolDelete } from '../../../../src/commands/pool/delete.js';
import { batchArgv, batchStdout as batchOut, mutations, outcome, recorded, testContext, URI } from '../../../support/harness.js';
import { splitBatch } from '../../../../src/libvirt/virsh.js';
import { fakeFiles, poolPath, recordedState, stubStorage, storageFile } from '../../../support/storage.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const P = poolPath('pair', 'p');
const PB = poolPath('big', 'big');
const BIG = recordedState('big').volumes('big');
const REMOTE = 'qemu+ssh://root@kvm1/system';
const virshAt = (uri: string, ...args: string[]) => ['virsh', '-c', uri, ...args];
const rm = (...paths: string[]) => ['rm', '-f', '--', ...paths];
/**
 * pool-delete and pool-undefine in one virsh process. dirKept: pool-delete fails as recorded
 * (pair-used-off: the directory not empty), its section a blank line as a failed command's is in a recorded
 * batch (pair/vol-delete-batch-immutable.txt). The success lines are virsh 9's "Pool NAME deleted" and
 * "Pool NAME has been undefined", each followed by the blank line virsh prints after a batched command's
 * output; they are not recorded (record.sh could add a pool-delete batch).
 */
const finish = (uri: string, pool: string, dirKept = false): [string[], { stdout: string; stderr?: string }] => [
  batchArgv([['pool-delete', '--pool', pool], ['pool-undefine', '--pool', pool]], uri),
  dirKept
    ? { stdout: batchOut(['\n', `Pool ${pool} has been undefined\n\n`]), stderr: recorded('storage/pair-used-off/err-pool-delete-not-empty.stderr') }
    : { stdout: batchOut([`Pool ${pool} deleted\n\n`, `Pool ${pool} has been undefined\n\n`]) },
];
/** The refusal's uses, sorted: they come in the order libvirt lists the VMs, which a recording does not fix. */
const usedBy = (r: { code: number; message: string }) => {
  const [head, list] = r.message.split(': ');
  return head === 'storage pool p has volumes used by VMs' ? { code: r.code, uses: (list ?? '').split(', ').sort() } : r;
};

describe('pool delete', () => {
  it('a pool holding volumes is exit 5 listing them, unless --force', async () => {
    const runner = stubStorage(new FakeRunner(), 'pair', { users: [] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', {}));
    expect(r).toEqual({ code: 5, message: 'storage pool p holds 2 volume(s): a.qcow2, b.raw' });
    expect(mutations(runner)).toEqual([]);
  });

  it('a volume used by any VM blocks it even with --force', async () => {
    // A shut-off VM with a plain file disk (vm1) is known from domstats alone; vm2's disk is a pool volume, read with dumpxml.
    const runner = stubStorage(new FakeRunner(), 'pair-used', { users: ['vm2'] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', { force: true, purge: true }));
    runner.verify();
    expect(usedBy(r)).toEqual({ code: 5, uses: ['a.qcow2 by vm2 (shutoff)', 'b.raw by vm1 (shutoff)'] });
    expect(mutations(runner)).toEqual([]);
  });

  it('an inactive pool: a VM with a file in its directory (from domstats) or one of its volumes (from XML) blocks it', async () => {
    // Recorded: vm1 on p's b.raw (a file), vm2 on p's a.qcow2 (a volume), vm3 on a file outside every pool; p stopped.
    const runner = stubStorage(new FakeRunner(), 'pair-used-off', { users: ['vm2'] });
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'p', { force: true }));
    runner.verify();
    expect(usedBy(r)).toEqual({ code: 5, uses: [`${P}/b.raw by vm1 (shutoff)`, 'a.qcow2 by vm2 (shutoff)'].sort() });
    expect(mutations(runner)).toEqual([]);
  });

  it('--force keeps the files: stop and undefine only', async () => {
    const runner = stubStorage(new FakeRunner(), 'pair', { users: [] }).stub(virsh('pool-destroy', '--pool', 'p'), {}).stub(virsh('pool-undefine', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true });
    runner.verify();
    expect(io.out).toBe(`storage pool p deleted, its 2 volume file(s) kept; ${P} was kept\n`);
  });

  it('--force --purge deletes only the volumes (their files, locally), then the directory if that empties it', async () => {
    const runner = stubStorage(new FakeRunner(), 'pair', { users: [] })
      .stub(rm(`${P}/a.qcow2`, `${P}/b.raw`), {})
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(...finish(URI, 'p', true));
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true });
    runner.verify();
    expect(io.out).toBe(`storage pool p deleted, 2 volume(s) deleted; ${P} was kept: failed to remove pool '${P}': Directory not empty\n`);
  });

  it('on a remote host libvirt deletes the volumes (vol-delete), never a local rm', async () => {
    const runner = stubStorage(new FakeRunner(), 'pair', { uri: REMOTE, users: [] })
      .stub(batchArgv([['vol-delete', '--pool', 'p', '--vol', 'a.qcow2'], ['vol-delete', '--pool', 'p', '--vol', 'b.raw']], REMOTE), { stdout: recorded('storage/pair/vol-delete-batch.txt') })
      .stub(virshAt(REMOTE, 'pool-destroy', '--pool', 'p'), {})
      .stub(...finish(REMOTE, 'p'));
    const { ctx, io } = testContext(runner, { uri: REMOTE });
    await runPoolDelete(ctx, 'p', { force: true, purge: true });
    runner.verify();
    expect(runner.calls.some((c) => c.program === 'rm')).toBe(false);
    expect(io.out).toBe(`storage pool p deleted, 2 volume(s) deleted; ${P} was removed\n`);
  });

  it('--purge keeps a volume that a VM\'s overlay outside every pool stands on (read from its qcow2 header) and names it', async () => {
    // Recorded (chain): VM over's disk, outside every pool, is a qcow2 whose header names p's hostname as its backing file.
    const over = /<source file='([^']*)'/.exec(recorded('storage/chain/dumpxml-over.xml'))![1]!;
    // The overlay's header names a backing file, so its VM is read with dumpxml (the chain needs its declared format).
    const runner = stubStorage(new FakeRunner(), 'chain', { users: ['over'] })
      .stub(rm(`${P}/b.raw`), {})
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(...finish(URI, 'p', true));
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true }, fakeFiles({ [over]: { header: storageFile('chain', 'over.qcow2.head') } }));
    runner.verify();
    expect(io.out).toBe(`storage pool p deleted, 1 volume(s) deleted (kept hostname: in the backing chain of VM over (disk ${over})); ${P} was kept: failed to remove pool '${P}': Directory not empty\n`);
    expect(runner.calls.some((c) => c.mutates && c.args.join(' ').includes('hostname'))).toBe(false);
  });

  const isDeleteBatch = (c: Command) => c.mutates && (c.args[2] ?? '').startsWith("'vol-delete'");
  const isRm = (c: Command) => c.mutates && c.program === 'rm';
  // What virsh printed for a batch of vol-delete (recorded for a.qcow2, b.raw), for each volume of the batch.
  const [deletedA] = splitBatch(recorded('storage/pair/vol-delete-batch.txt'), 2);
  const answer = (cmd: Command) => ({
    stdout: batchOut([...(cmd.args[2] ?? '').matchAll(/'--vol' '([^']*)'/g)].map((m) => deletedA!.replace('a.qcow2', m[1]!))),
  });
  // What rm and libvirt said of a file they could not remove (recorded: p's b.raw made immutable), said of big's v7.img.
  const asV7 = (text: string) => text.replaceAll(`${P}/b.raw`, `${PB}/v7.img`).replaceAll('b.raw', 'v7.img');
  const rmFails = { exitCode: 1, stderr: asV7(recorded('storage/pair/err-rm-immutable.stderr')) };
  const libvirtFails = asV7(recorded('storage/pair/vol-delete-batch-immutable.txt.stderr'));
  const v7left = `1 left (cannot unlink file '${PB}/v7.img': Operation not permitted)`;
  const bigRemote = () =>
    stubStorage(new FakeRunner(), 'big', { uri: REMOTE, users: [] })
      .stub(virshAt(REMOTE, 'pool-destroy', '--pool', 'big'), {})
      .stub(...finish(REMOTE, 'big'));

  it('--purge of 1200 local volume files removes them with rm, 250 paths a process, not one process per volume', async () => {
    const runner = stubStorage(new FakeRunner(), 'big', { users: [] })
      .stub(isRm, {}, Infinity)
      .stub(virsh('pool-destroy', '--pool', 'big'), {})
      .stub(...finish(URI, 'big'));
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    runner.verify();
    const removed = runner.calls.filter(isRm).map((c) => c.args.slice(2));
    expect(removed.map((paths) => paths.length)).toEqual([250, 250, 250, 250, 200]);
    expect(removed.flat()).toEqual(BIG.map((v) => `${PB}/${v}`));
    expect(runner.calls.filter(isDeleteBatch)).toEqual([]);
    expect(JSON.parse(io.out).volumesDeleted).toHaveLength(1200);
  });

  it('files rm could not remove go to libvirt, which names the one it cannot delete: exit 8, the pool kept', async () => {
    const runner = stubStorage(new FakeRunner(), 'big', { users: [] })
      .stub(isRm, (c) => (c.args.includes(`${PB}/v7.img`) ? rmFails : {}), Infinity)
      .stub(
        isDeleteBatch,
        (c) => {
          const r = answer(c);
          return { stdout: r.stdout.replace('Vol v7.img deleted\n\n', ''), stderr: libvirtFails };
        },
        Infinity,
      );
    const r = await outcome(runPoolDelete(testContext(runner).ctx, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: `storage pool big: 1199 of 1200 volume(s) deleted, ${v7left}; the pool was kept` });
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
    const runner = stubStorage(new FakeRunner(), 'big', { uri: REMOTE, users: [] }).stub(
      isDeleteBatch,
      (c) => {
        const r = answer(c);
        // v7.img fails: its section is empty, and virsh says why on stderr.
        return c.args[2]?.includes("'v7.img'")
          ? { stdout: r.stdout.replace('Vol v7.img deleted\n\n', ''), stderr: libvirtFails }
          : r;
      },
      Infinity,
    );
    const r = await outcome(runPoolDelete(testContext(runner, { uri: REMOTE }).ctx, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: `storage pool big: 1199 of 1200 volume(s) deleted, ${v7left}; the pool was kept` });
    const failing = stubStorage(new FakeRunner(), 'big', { uri: REMOTE, users: [] }).stub(isDeleteBatch, (c) => ({ ...answer(c), stdout: '' }), Infinity);
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
      const runner = stubStorage(new FakeRunner(), 'big', { uri, users: [] })
        .stub(isRm, () => (stop.abort(), {}), Infinity)
        .stub(isDeleteBatch, (c) => (stop.abort(), answer(c)), Infinity);
      const { ctx } = testContext(runner, { uri });
      const r = await outcome(runPoolDelete({ ...ctx, signal: stop.signal }, 'big', { force: true, purge: true }));
      expect(r).toEqual({ code: 8, message: 'storage pool big: 250 of 1200 volume(s) deleted, 950 left (interrupted); the pool was kept' });
      expect(runner.calls.filter((c) => c.mutates)).toHaveLength(1);
    }
  });

  it('--dry-run prints the deletes (rm locally, vol-delete batches remotely) and runs none of them', async () => {
    const local = stubStorage(new FakeRunner(), 'big', { users: [] });
    const { ctx, io } = testContext(local, { dryRun: true });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    expect(local.calls.filter((c) => c.mutates)).toEqual([]);
    expect(io.err.split(`[dry-run] would run: rm -f -- ${PB}/${BIG[0]} `)).toHaveLength(2);
    expect(io.err.match(/\[dry-run\] would run: rm -f --/g)).toHaveLength(5);
    const remote = stubStorage(new FakeRunner(), 'big', { uri: REMOTE, users: [] });
    const r = testContext(remote, { dryRun: true, uri: REMOTE });
    await runPoolDelete(r.ctx, 'big', { force: true, purge: true });
    expect(remote.calls.filter((c) => c.mutates)).toEqual([]);
    expect(r.io.err.match(/\[dry-run\] would run: virsh .*vol-delete/g)).toHaveLength(5);
  });

  it('an inactive pool needs --force (its volumes cannot be listed); a missing one is exit 3', async () => {
    const inactive = stubStorage(new FakeRunner(), 'pair-used-off', { users: ['vm2'] });
    expect((await outcome(runPoolDelete(testContext(inactive).ctx, 'p', {}))).code).toBe(5);
    expect((await outcome(runPoolDelete(testContext(stubStorage(new FakeRunner(), 'empty', { users: [] })).ctx, 'nope', {}))).code).toBe(3);
  });
});
