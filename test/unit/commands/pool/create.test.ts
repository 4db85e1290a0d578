import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { exitCodeOf, type KvmctlError } from '../../../../src/errors.js';
import { runPoolCreate, type PoolCreateOptions } from '../../../../src/commands/pool/create.js';
import { mutations, outcome, recorded, testContext, virshArgv as virsh } from '../../../support/harness.js';
import { fakeFiles, poolPath, stubStorage } from '../../../support/storage.js';

// Recorded: pool-start of a dir pool whose directory is missing.
const cannotStart = { exitCode: 1, stderr: recorded('storage/pair-used-off/err-pool-start-no-dir.stderr') };
const golden = (name: string) => readFileSync(new URL(`../../../fixtures/golden/pool/${name}`, import.meta.url), 'utf8');
const opts = (o: Partial<PoolCreateOptions>): PoolCreateOptions => ({ type: 'dir', start: true, autostart: true, ...o });

describe('pool create', () => {
  it('defines (XML on stdin), builds, starts and marks autostart, in that order', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), {})
      .stub(virsh('pool-autostart', '--pool', 'images'), {});
    const { ctx, io } = testContext(runner);
    await runPoolCreate(ctx, 'images', opts({ path: '/var/lib/libvirt/images' }), fakeFiles());
    runner.verify();
    expect(mutations(runner)).toEqual(['virsh pool-define --file /dev/stdin', 'virsh pool-build --pool images', 'virsh pool-start --pool images', 'virsh pool-autostart --pool images']);
    expect(runner.calls.find((c) => c.args.includes('pool-define'))?.input).toBe(golden('dir.xml'));
    expect(io.out).toBe('storage pool images created (dir, /var/lib/libvirt/images), started, autostart on\n');
  });

  it('--no-start --no-autostart only defines and builds; a logical pool from devices builds with --no-overwrite', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
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
    const r = await outcome(runPoolCreate(testContext(runner).ctx, 'x', opts({ path: '/srv/link/pools' }), fakeFiles({}, { '/srv/link': '/etc' })));
    expect(r).toEqual({ code: 2, message: 'invalid --path "/srv/link/pools": it leads through a symlink to /etc/pools, and it is inside /etc, a system directory' });
    expect(runner.calls).toEqual([]);
  });

  it('the same spec again is "unchanged"; another spec is exit 4; a path another pool uses is exit 4', async () => {
    // Recorded: pool images, a dir pool at I.
    const state = 'dirpool';
    const I = poolPath(state, 'images');
    const dumpxml = recorded('storage/dirpool/pool-dumpxml-images.xml');
    const same = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    const a = testContext(same);
    await runPoolCreate(a.ctx, 'images', opts({ path: I }), fakeFiles({ [I]: { kind: 'directory' } }));
    expect(a.io.out).toBe('storage pool images already exists as asked: unchanged\n');
    expect(mutations(same)).toEqual([]);

    // Its directory removed outside kvmctl: not "unchanged", but what is wrong and how to fix it.
    const gone = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    expect(await outcome(runPoolCreate(testContext(gone).ctx, 'images', opts({ path: I }), fakeFiles()))).toEqual({
      code: 5,
      message: `storage pool images: its directory ${I} does not exist (removed outside kvmctl?), so the pool cannot run`,
    });
    expect(mutations(gone)).toEqual([]);

    const other = stubStorage(new FakeRunner(), state, { domains: false }).stub(virsh('pool-dumpxml', '--pool', 'images'), { stdout: dumpxml });
    expect(await outcome(runPoolCreate(testContext(other).ctx, 'images', opts({ path: '/srv/other' }), fakeFiles()))).toEqual({
      code: 4,
      message: `storage pool images already exists with another definition (target path: ${I} -> /srv/other)`,
    });

    const clash = stubStorage(new FakeRunner(), state, { domains: false });
    expect(await outcome(runPoolCreate(testContext(clash).ctx, 'second', opts({ path: I }), fakeFiles()))).toEqual({
      code: 4,
      message: `storage pool images already uses ${I}`,
    });
    expect(mutations(clash)).toEqual([]);
  });

  it('a failure midway undoes what it did, in reverse (exit 7): the directory it made, then the definition', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), cannotStart)
      .stub(virsh('pool-delete', '--pool', 'images'), {})
      .stub(virsh('pool-undefine', '--pool', 'images'), {});
    const r = await outcome(runPoolCreate(testContext(runner).ctx, 'images', opts({ path: '/srv/images' }), fakeFiles()));
    expect(r.code).toBe(7);
    expect(r.message).toMatch(/^pool create images failed: .*cannot open directory .*; everything it had done was undone$/);
    runner.verify();
    expect(mutations(runner).slice(-2)).toEqual(['virsh pool-delete --pool images', 'virsh pool-undefine --pool images']);
  });

  it('a directory that existed before is never removed on rollback', async () => {
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
      .stub(virsh('pool-define', '--file', '/dev/stdin'), {})
      .stub(virsh('pool-build', '--pool', 'images'), {})
      .stub(virsh('pool-start', '--pool', 'images'), cannotStart)
      .stub(virsh('pool-undefine', '--pool', 'images'), {});
    const r = await outcome(runPoolCreate(testContext(runner).ctx, 'images', opts({ path: '/srv/images' }), fakeFiles({ '/srv/images': { kind: 'directory' } })));
    expect(r.code).toBe(7);
    runner.verify();
    expect(mutations(runner)).not.toContain('virsh pool-delete --pool images');
  });
});
