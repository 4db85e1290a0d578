import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeList } from '../../../../src/commands/volume/list.js';
import { runPoolInfo } from '../../../../src/commands/pool/info.js';
import { batchArgv, testContext } from '../../../support/harness.js';
import { stubStorage } from '../../../support/storage.js';

describe('volume list', () => {
  it('JSON lists every volume with its users and overlays, in constant calls', async () => {
    // web runs, old's disk is a pool volume (no path in domstats): both are read with dumpxml.
    const runner = stubStorage(new FakeRunner(), 'inuse', { users: ['web', 'old'] });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeList(ctx, {});
    runner.verify();
    expect(runner.calls).toHaveLength(5);
    const vols = JSON.parse(io.out);
    expect(vols.find((v: { name: string }) => v.name === 'web.qcow2').users).toEqual([{ vm: 'web', state: 'running', active: true, target: 'vda', readonly: false }]);
    expect(vols.find((v: { name: string }) => v.name === 'base.qcow2').dependents).toEqual(['p/o.qcow2']);
  });

  it('the table names backing volumes as POOL/NAME and the VMs using each', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), 'inuse', { users: ['web', 'old'] }));
    await runVolumeList(ctx, {});
    expect(io.out).toMatch(/^p\s+o\.qcow2\s+qcow2\s+1\.0 GiB\s+196\.0 KiB\s+p\/base\.qcow2\s+-$/m);
    expect(io.out).toMatch(/^p\s+web\.qcow2 .* web \(running, vda\)$/m);
  });

  it("kvmctl's image store (.kvmctl-images, listed by libvirt as a dir volume) is left out of volume list, pool info and the volume counts (recorded)", async () => {
    const rec = (f: string) => readFileSync(new URL(`../../../fixtures/recorded/storage/${f}`, import.meta.url), 'utf8');
    // volume list reads who uses the volumes with --block --backing; pool info reads the domains' states only.
    const replay = (domains: 'disk-uses' | 'domains') =>
      new FakeRunner()
        .stub(batchArgv([['pool-info', '--pool', 'imgs'], ['pool-dumpxml', '--pool', 'imgs'], ['vol-list', '--pool', 'imgs']]), { stdout: rec('image-store-pool-details-batch.txt') })
        .stub(batchArgv([['vol-dumpxml', '--pool', 'imgs', '--vol', '.kvmctl-images'], ['vol-dumpxml', '--pool', 'imgs', '--vol', 'disk.qcow2']]), { stdout: rec('image-store-vol-dumpxml-batch.txt') })
        .stub(batchArgv([['domstats', '--raw', '--state', ...(domains === 'disk-uses' ? ['--block', '--backing'] : [])], ['list', '--all', '--autostart', '--name']]), { stdout: rec(`image-store-${domains}-batch.txt`) });
    // What libvirt says: two volumes, one of them the store.
    expect(rec('image-store-vol-dumpxml-batch.txt')).toMatch(/<volume type='dir'>\n {2}<name>\.kvmctl-images<\/name>/);
    const json = replay('disk-uses');
    const j = testContext(json, { output: 'json' });
    await runVolumeList(j.ctx, { pool: 'imgs' });
    json.verify();
    expect((JSON.parse(j.io.out) as Array<{ name: string }>).map((v) => v.name)).toEqual(['disk.qcow2']);
    const table = testContext(replay('disk-uses'));
    await runVolumeList(table.ctx, { pool: 'imgs' });
    expect(table.io.out).not.toMatch(/kvmctl-images/);
    expect(table.io.out).toMatch(/^imgs\s+disk\.qcow2\s+qcow2\s+1\.0 MiB/m);
    const info = testContext(replay('domains'), { output: 'json' });
    await runPoolInfo(info.ctx, 'imgs');
    expect(JSON.parse(info.io.out)).toMatchObject({ name: 'imgs', volumeCount: 1, volumes: [{ name: 'disk.qcow2' }] });
  });
});
