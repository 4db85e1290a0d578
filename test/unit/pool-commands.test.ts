import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import type { Command } from '../../src/exec/command.js';
import { exitCodeOf, PartialError, type KvmctlError } from '../../src/errors.js';
import { runPoolCreate, type PoolCreateOptions } from '../../src/commands/pool/create.js';
import { runPoolDelete } from '../../src/commands/pool/delete.js';
import { runPoolList } from '../../src/commands/pool/list.js';
import { runPoolInfo } from '../../src/commands/pool/info.js';
import { runPoolAutostart } from '../../src/commands/pool/autostart.js';
import { runPoolStart } from '../../src/commands/pool/start.js';
import { runPoolStop } from '../../src/commands/pool/stop.js';
import { batchArgv, batchOut, fakeFiles, stubDomains, stubStorage, testContext, URI, virshFailure, type FakePool, type StorageState } from './storage-harness.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const golden = (name: string) => readFileSync(new URL(`../fixtures/golden/pool/${name}`, import.meta.url), 'utf8');
const opts = (o: Partial<PoolCreateOptions>): PoolCreateOptions => ({ type: 'dir', start: true, autostart: true, ...o });

async function codeOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
    return { code: 0, message: '' };
  } catch (e) {
    return { code: exitCodeOf(e), message: (e as Error).message };
  }
}

const writes = (runner: FakeRunner) => runner.calls.filter((c) => c.mutates).map((c) => [c.program, ...c.args.slice(2)].join(' '));

describe('pool create', () => {
  it('defines (XML on stdin), builds, starts and marks autostart, in that order', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [] }, { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), {})
      .stub(virsh('pool-autostart', '--pool', 'images'), {});
    const { ctx, io } = testContext(runner);
    await runPoolCreate(ctx, 'images', opts({ path: '/var/lib/libvirt/images' }), fakeFiles());
    runner.verify();
    expect(writes(runner)).toEqual(['virsh pool-define --file /dev/stdin', 'virsh pool-build --pool images', 'virsh pool-start --pool images', 'virsh pool-autostart --pool images']);
    expect(runner.calls.find((c) => c.args.includes('pool-define'))?.input).toBe(golden('dir.xml'));
    expect(io.out).toBe('storage pool images created (dir, /var/lib/libvirt/images), started, autostart on\n');
  });

  it('--no-start --no-autostart only defines and builds; a logical pool from devices builds with --no-overwrite', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [] }, { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'vg0', '--no-overwrite'), {});
    await runPoolCreate(testContext(runner).ctx, 'vg0', opts({ type: 'logical', vg: 'vg0', sourceDev: ['/dev/sdc', '/dev/sdd'], start: false, autostart: false }), fakeFiles());
    runner.verify();
    expect(runner.calls.find((c) => c.args.includes('pool-define'))?.input).toBe(golden('logical.xml'));
  });

  it('--print-xml prints the XML and runs nothing', async () => {
    const runner = new FakeRunner();
    const { ctx, io } = testContext(runner);
    await runPoolCreate(ctx, 'nfs', opts({ type: 'netfs', path: '/mnt/vm', sourceHost: 'nas.example.com', sourcePath: '/export/vm', printXml: true }), fakeFiles());
    expect(io.out).toBe(golden('netfs.xml'));
    expect(runner.calls).toEqual([]);
  });

  it('a path through a symlink into /etc is exit 2 before anything runs', async () => {
    const runner = new FakeRunner();
    const r = await codeOf(runPoolCreate(testContext(runner).ctx, 'x', opts({ path: '/srv/link/pools' }), fakeFiles({}, { '/srv/link': '/etc' })));
    expect(r).toEqual({ code: 2, message: 'invalid --path "/srv/link/pools": it leads through a symlink to /etc/pools, and it is inside /etc, a system directory' });
    expect(runner.calls).toEqual([]);
  });

  it('the same spec again is "unchanged"; another spec is exit 4; a path another pool uses is exit 4', async () => {
    const state: StorageState = { pools: [{ name: 'images', path: '/srv/images' }] };
    const dumpxml = `<pool type='dir'><name>images</name><source></source><target><path>/srv/images</path></target></pool>`;
    const same = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    const a = testContext(same);
    await runPoolCreate(a.ctx, 'images', opts({ path: '/srv/images' }), fakeFiles({ '/srv/images': { kind: 'directory' } }));
    expect(a.io.out).toBe('storage pool images already exists as asked: unchanged\n');
    expect(writes(same)).toEqual([]);

    // Its directory removed outside kvmctl: not "unchanged", but what is wrong and how to fix it.
    const gone = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    expect(await codeOf(runPoolCreate(testContext(gone).ctx, 'images', opts({ path: '/srv/images' }), fakeFiles()))).toEqual({
      code: 5,
      message: 'storage pool images: its directory /srv/images does not exist (removed outside kvmctl?), so the pool cannot run',
    });
    expect(writes(gone)).toEqual([]);

    const other = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    expect(await codeOf(runPoolCreate(testContext(other).ctx, 'images', opts({ path: '/srv/other' }), fakeFiles()))).toEqual({
      code: 4,
      message: 'storage pool images already exists with another definition (target path: /srv/images -> /srv/other)',
    });

    const clash = stubStorage(new FakeRunner(), state, { domains: false });
    expect(await codeOf(runPoolCreate(testContext(clash).ctx, 'second', opts({ path: '/srv/images' }), fakeFiles()))).toEqual({
      code: 4,
      message: 'storage pool images already uses /srv/images',
    });
    expect(writes(clash)).toEqual([]);
  });

  it('a failure midway undoes what it did, in reverse (exit 7): the directory it made, then the definition', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [] }, { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), virshFailure('internal error: cannot open directory'))
      .stub(virsh('pool-delete', '--pool', 'images'), {})
      .stub(virsh('pool-undefine', '--pool', 'images'), {});
    const r = await codeOf(runPoolCreate(testContext(runner).ctx, 'images', opts({ path: '/srv/images' }), fakeFiles()));
    expect(r.code).toBe(7);
    expect(r.message).toMatch(/^pool create images failed: .*cannot open directory; everything it had done was undone$/);
    runner.verify();
    expect(writes(runner).slice(-2)).toEqual(['virsh pool-delete --pool images', 'virsh pool-undefine --pool images']);
  });

  it('a directory that existed before is never removed on rollback', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [] }, { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), virshFailure('internal error: boom'))
      .stub(virsh('pool-undefine', '--pool', 'images'), {});
    const r = await codeOf(runPoolCreate(testContext(runner).ctx, 'images', opts({ path: '/srv/images' }), fakeFiles({ '/srv/images': { kind: 'directory' } })));
    expect(r.code).toBe(7);
    runner.verify();
    expect(writes(runner)).not.toContain('virsh pool-delete --pool images');
  });
});

const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };

describe('pool delete', () => {
  it('a pool holding volumes is exit 5 listing them, unless --force', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] });
    const r = await codeOf(runPoolDelete(testContext(runner).ctx, 'p', {}));
    expect(r).toEqual({ code: 5, message: 'storage pool p holds 2 volume(s): a.qcow2, b.raw' });
    expect(writes(runner)).toEqual([]);
  });

  it('a volume used by any VM blocks it even with --force', async () => {
    const state: StorageState = { pools: [full], domains: [{ name: 'vm1', state: 5, disks: [{ file: '/pools/p/b.raw', target: 'vda' }] }] };
    const runner = stubStorage(new FakeRunner(), state);
    const r = await codeOf(runPoolDelete(testContext(runner).ctx, 'p', { force: true, purge: true }));
    expect(r).toMatchObject({ code: 5, message: 'storage pool p has volumes used by VMs: b.raw by vm1 (shutoff)' });
    expect(writes(runner)).toEqual([]);
  });

  it('--force keeps the files: stop and undefine only', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }).stub(virsh('pool-destroy', '--pool', 'p'), {}).stub(virsh('pool-undefine', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true });
    runner.verify();
    expect(io.out).toBe('storage pool p deleted, its 2 volume file(s) kept; /pools/p was kept\n');
  });

  it('--force --purge deletes only the volumes, then the directory if that empties it', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] })
      .stub(batchArgv(URI, [['vol-delete', '--pool', 'p', '--vol', 'a.qcow2'], ['vol-delete', '--pool', 'p', '--vol', 'b.raw']]), { stdout: batchOut(['Vol a.qcow2 deleted\n\n', 'Vol b.raw deleted\n\n']) })
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(virsh('pool-delete', '--pool', 'p'), virshFailure("failed to remove pool '/pools/p': Directory not empty"))
      .stub(virsh('pool-undefine', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true });
    runner.verify();
    expect(io.out).toBe("storage pool p deleted, 2 volume(s) deleted; /pools/p was kept: failed to remove pool '/pools/p': Directory not empty\n");
  });

  it('--purge keeps a volume that a VM\'s overlay outside every pool stands on (read from its qcow2 header) and names it', async () => {
    // The recorded header's backing file is /etc/hostname: here a volume of a pool at /etc.
    const header = readFileSync(new URL('../fixtures/recorded/storage/images/backing.qcow2.head', import.meta.url));
    const etc: FakePool = { name: 'p', path: '/etc', volumes: [{ name: 'hostname', format: 'raw' }, { name: 'b.raw', format: 'raw' }] };
    const runner = stubStorage(new FakeRunner(), { pools: [etc], domains: [{ name: 'over', state: 5, disks: [{ file: '/srv/over.qcow2', target: 'vda', format: 'qcow2' }] }] })
      .stub(batchArgv(URI, [['vol-delete', '--pool', 'p', '--vol', 'b.raw']]), { stdout: batchOut(['Vol b.raw deleted\n\n']) })
      .stub(virsh('pool-destroy', '--pool', 'p'), {})
      .stub(virsh('pool-delete', '--pool', 'p'), virshFailure("failed to remove pool '/etc': Directory not empty"))
      .stub(virsh('pool-undefine', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner);
    await runPoolDelete(ctx, 'p', { force: true, purge: true }, fakeFiles({ '/srv/over.qcow2': { header } }));
    runner.verify();
    expect(io.out).toBe("storage pool p deleted, 1 volume(s) deleted (kept hostname: in the backing chain of VM over (disk /srv/over.qcow2)); /etc was kept: failed to remove pool '/etc': Directory not empty\n");
    expect(runner.calls.some((c) => c.mutates && c.args.join(' ').includes('hostname'))).toBe(false);
  });

  const big: FakePool = { name: 'big', path: '/pools/big', volumes: Array.from({ length: 1200 }, (_, i) => ({ name: `v${i}.img`, format: 'raw' })) };
  const isDeleteBatch = (c: Command) => c.mutates && (c.args[2] ?? '').startsWith("'vol-delete'");
  // What virsh prints for a batch of vol-delete: "Vol NAME deleted" and a blank line for each.
  const answer = (cmd: Command) => ({
    stdout: batchOut([...(cmd.args[2] ?? '').matchAll(/'--vol' '([^']*)'/g)].map((m) => `Vol ${m[1]} deleted\n\n`)),
  });

  it('--purge of 1200 volumes deletes them in a few mutating virsh processes, not one per volume', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big] })
      .stub(isDeleteBatch, answer, Infinity)
      .stub(virsh('pool-destroy', '--pool', 'big'), {})
      .stub(virsh('pool-delete', '--pool', 'big'), {})
      .stub(virsh('pool-undefine', '--pool', 'big'), {});
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    runner.verify();
    const batches = runner.calls.filter(isDeleteBatch);
    expect(batches.map((c) => [...(c.args[2] ?? '').matchAll(/'vol-delete'/g)].length)).toEqual([250, 250, 250, 250, 200]);
    expect(JSON.parse(io.out).volumesDeleted).toHaveLength(1200);
  });

  it('a volume libvirt cannot delete keeps the pool: exit 8 naming what is left, and no pool change runs', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big] }).stub(
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
    const r = await codeOf(runPoolDelete(testContext(runner).ctx, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: "storage pool big: 1199 of 1200 volume(s) deleted, 1 left (cannot unlink file '/pools/big/v7.img': Permission denied); the pool was kept" });
    const err = await runPoolDelete(testContext(stubStorage(new FakeRunner(), { pools: [big] }).stub(isDeleteBatch, (c) => ({ ...answer(c), stdout: '' }), Infinity)).ctx, 'big', {
      force: true,
      purge: true,
    }).catch((e: PartialError) => e);
    // Every volume left is named with the command that removes it, and the list stays short.
    expect((err as PartialError).leftovers.slice(0, 2)).toEqual([
      'volume big/v0.img (remove with: virsh -c qemu:///system vol-delete --pool big --vol v0.img)',
      'volume big/v1.img (remove with: virsh -c qemu:///system vol-delete --pool big --vol v1.img)',
    ]);
    expect((err as PartialError).leftovers).toHaveLength(21);
    expect((err as PartialError).leftovers[20]).toBe('and 1180 more');
    expect(writes(runner).filter((w) => /pool-destroy|pool-undefine|pool-delete/.test(w))).toEqual([]);
    expect(runner.calls.filter((c) => c.mutates)).toHaveLength(5);
  });

  it('stops before the next batch once told to stop, and says how many are left', async () => {
    const stop = new AbortController();
    const runner = stubStorage(new FakeRunner(), { pools: [big] }).stub(
      isDeleteBatch,
      (c) => {
        stop.abort();
        return answer(c);
      },
      Infinity,
    );
    const { ctx } = testContext(runner);
    const r = await codeOf(runPoolDelete({ ...ctx, signal: stop.signal }, 'big', { force: true, purge: true }));
    expect(r).toEqual({ code: 8, message: 'storage pool big: 250 of 1200 volume(s) deleted, 950 left (interrupted); the pool was kept' });
    expect(runner.calls.filter((c) => c.mutates)).toHaveLength(1);
  });

  it('--dry-run prints the delete batches and runs none of them', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [big] });
    const { ctx, io } = testContext(runner, { dryRun: true });
    await runPoolDelete(ctx, 'big', { force: true, purge: true });
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
    expect(io.err.match(/\[dry-run\] would run: virsh .*vol-delete/g)).toHaveLength(5);
  });

  it('an inactive pool needs --force (its volumes cannot be listed); a missing one is exit 3', async () => {
    const inactive = stubStorage(new FakeRunner(), { pools: [{ ...full, state: 'inactive' }] });
    expect((await codeOf(runPoolDelete(testContext(inactive).ctx, 'p', {}))).code).toBe(5);
    expect((await codeOf(runPoolDelete(testContext(stubStorage(new FakeRunner(), { pools: [] })).ctx, 'nope', {}))).code).toBe(3);
  });
});

describe('pool lifecycle', () => {
  it('start on a running pool and autostart when already on are "unchanged", exit 0, nothing run', async () => {
    const state = { pools: [{ ...full, autostart: true }] };
    const a = testContext(stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false }));
    await runPoolStart(a.ctx, 'p');
    expect(a.io.out).toBe('storage pool p is already running: unchanged\n');
    const b = testContext(stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false }));
    await runPoolAutostart(b.ctx, 'p', {});
    expect(b.io.out).toBe('storage pool p autostart is already on: unchanged\n');
    const c = stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false }).stub(virsh('pool-autostart', '--pool', 'p', '--disable'), {});
    await runPoolAutostart(testContext(c).ctx, 'p', { disable: true });
    c.verify();
  });

  it('start of a pool whose directory is gone says so and how to fix it (exit 5), locally before libvirt and from libvirt\'s message remotely', async () => {
    const state = { pools: [{ ...full, state: 'inactive' as const }] };
    const local = stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false });
    const hint = "re-create the directory: mkdir -p -m 0711 -- /pools/p, then run: kvmctl pool start p";
    const message = 'storage pool p: its directory /pools/p does not exist (removed outside kvmctl?), so the pool cannot run';
    expect(await codeOf(runPoolStart(testContext(local).ctx, 'p', fakeFiles()))).toEqual({ code: 5, message });
    expect(writes(local)).toEqual([]);
    await runPoolStart(testContext(stubStorage(new FakeRunner(), state, { only: ['p'], domains: false, volumes: false }).stub(virsh('pool-start', '--pool', 'p'), {})).ctx, 'p', fakeFiles({ '/pools/p': { kind: 'directory' } }));

    const remoteUri = 'qemu+ssh://h/system';
    const remote = stubStorage(new FakeRunner(), { ...state, uri: remoteUri }, { only: ['p'], domains: false, volumes: false }).stub(
      ['virsh', '-c', remoteUri, 'pool-start', '--pool', 'p'],
      virshFailure("cannot open directory '/pools/p': No such file or directory"),
    );
    const err = await runPoolStart(testContext(remote, { uri: remoteUri }).ctx, 'p', fakeFiles()).catch((e: KvmctlError) => e);
    expect([exitCodeOf(err), (err as KvmctlError).message, (err as KvmctlError).hint]).toEqual([5, message, hint.replace('kvmctl pool', `kvmctl -c ${remoteUri} pool`)]);
  });

  it('stop is refused while a running VM uses one of its volumes', async () => {
    const runner = stubStorage(new FakeRunner(), { pools: [full] }, { only: ['p'], domains: false, volumes: false });
    stubDomains(runner, [{ name: 'vm1', state: 1, disks: [{ pool: 'p', volume: 'a.qcow2', target: 'vda' }] }]);
    const r = await codeOf(runPoolStop(testContext(runner).ctx, 'p'));
    expect(r).toEqual({ code: 5, message: 'storage pool p has volumes in use by running VMs: a.qcow2 by vm1' });
    expect(writes(runner)).toEqual([]);
  });
});

describe('pool list and info', () => {
  it('one table for all pools; inactive sizes are unknown, not zero', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), { pools: [full, { name: 'off', state: 'inactive' }] }, { domains: false, volumes: false }));
    await runPoolList(ctx);
    expect(io.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+AUTOSTART\s+PATH\s+CAPACITY\s+ALLOCATION\s+AVAILABLE\s+VOLUMES$/);
    expect(io.out).toMatch(/^p\s+dir\s+running\s+no\s+\/pools\/p\s+200\.0 GiB\s+0 B\s+100\.0 GiB\s+2$/m);
    expect(io.out).toMatch(/^off\s+dir\s+inactive\s+no\s+\/pools\/off\s+-\s+-\s+-\s+-$/m);
  });

  it('info -o json has the pool, its source and its volumes with users', async () => {
    const netfs: FakePool = { name: 'nfs', type: 'netfs', path: '/mnt/vm', sourceXml: "<host name='nas'/><dir path='/export'/><format type='nfs'/>", volumes: [{ name: 'a.qcow2' }] };
    const runner = stubStorage(new FakeRunner(), { pools: [netfs], domains: [{ name: 'vm1', state: 1, disks: [{ file: '/mnt/vm/a.qcow2', target: 'vda' }] }] }, { only: ['nfs'] });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolInfo(ctx, 'nfs');
    const j = JSON.parse(io.out);
    expect(j).toMatchObject({ name: 'nfs', type: 'netfs', source: { host: 'nas', dir: '/export', format: 'nfs' }, volumeCount: 1 });
    expect(j.volumes[0]).toMatchObject({ name: 'a.qcow2', users: [{ vm: 'vm1', active: true }] });
  });

  it('an unreachable daemon is exit 5', async () => {
    const runner = new FakeRunner().stub((c: Command) => c.program === 'virsh', { exitCode: 1, stderr: 'error: failed to connect to the hypervisor\n' });
    expect((await codeOf(runPoolList(testContext(runner).ctx))).code).toBe(5);
  });
});
