import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { runPoolList } from '../../../../src/commands/pool/list.js';
import { parseVolList } from '../../../../src/libvirt/storage.js';
import { splitBatch } from '../../../../src/libvirt/virsh.js';
import { formatBytes } from '../../../../src/units/size.js';
import { batchArgv, batchStdout, outcome, recorded, testContext } from '../../../support/harness.js';
import { completedVolumeNames, poolPath, recordedState, stubStorage } from '../../../support/storage.js';

const bytes = (tag: string) => formatBytes(Number(new RegExp(`<${tag} unit='bytes'>(\\d+)<`).exec(recorded('storage/inuse/pool-dumpxml-p.xml'))?.[1]));

describe('pool list', () => {
  it('one table for all pools; inactive sizes are unknown, not zero', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), 'inuse', { domains: false, volumes: false, namesOnly: true }));
    await runPoolList(ctx);
    expect(io.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+AUTOSTART\s+PATH\s+CAPACITY\s+ALLOCATION\s+AVAILABLE\s+VOLUMES$/);
    const rows = io.out.split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows).toContainEqual(['p', 'dir', 'running', 'yes', poolPath('inuse', 'p'), bytes('capacity'), bytes('allocation'), bytes('available'), '7']);
    expect(rows).toContainEqual(['off', 'dir', 'inactive', 'no', poolPath('inuse', 'off'), '-', '-', '-', '-']);
  });

  it('counts volumes from the names virsh completes (one listing call), never vol-list, which looks up every path', async () => {
    for (const [state, counts] of [['inuse', [['off', null], ['p', 7]]], ['dirpool', [['images', 0]]]] as const) {
      const runner = stubStorage(new FakeRunner(), state, { domains: false, volumes: false, namesOnly: true });
      const { ctx, io } = testContext(runner, { output: 'json' });
      await runPoolList(ctx);
      runner.verify();
      expect(JSON.parse(io.out).map((p: { name: string; volumeCount: number | null }) => [p.name, p.volumeCount])).toEqual(counts);
      expect(runner.calls.some((c) => c.args.join(' ').includes('vol-list'))).toBe(false);
    }
  });

  it("kvmctl's image store is no volume to count", async () => {
    // Recorded: pool imgs holds disk.qcow2 and the image store .kvmctl-images; its completion rendered from those names.
    const [info = '', xml = '', vols = ''] = splitBatch(recorded('storage/image-store-pool-details-batch.txt'), 3);
    const runner = new FakeRunner()
      .stub(batchArgv([['pool-list', '--all', '--name']]), { stdout: 'imgs\n\n' })
      .stub(batchArgv([['pool-info', '--pool', 'imgs'], ['pool-dumpxml', '--pool', 'imgs'], ['complete', '--', 'vol-info', '--pool', 'imgs', '--vol', '']]), {
        stdout: batchStdout([info, xml, completedVolumeNames(parseVolList(vols).map((v) => v.name))]),
      });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolList(ctx);
    runner.verify();
    expect(JSON.parse(io.out).map((p: { name: string; volumeCount: number }) => [p.name, p.volumeCount])).toEqual([['imgs', 1]]);
  });

  it('a virsh without the complete command: the pools it could not count are listed with vol-list, in one more process', async () => {
    // inuse's recorded pools; each completion section blank with the error a virsh before libvirt 4.1 gives for an unknown command.
    const { pools } = recordedState('inuse');
    const read = (file: string) => recorded(`storage/inuse/${file}`);
    const runner = new FakeRunner()
      .stub(batchArgv([['pool-list', '--all', '--name']]), { stdout: read('pool-list.txt') })
      .stub(batchArgv(pools.flatMap((p) => [['pool-info', '--pool', p], ['pool-dumpxml', '--pool', p], ['complete', '--', 'vol-info', '--pool', p, '--vol', '']])), {
        stdout: batchStdout(pools.flatMap((p) => [read(`pool-info-${p}.txt`), read(`pool-dumpxml-${p}.xml`), '\n'])),
        stderr: pools.map(() => "error: unknown command: 'complete'\n").join(''),
      })
      .stub(batchArgv(pools.map((p) => ['vol-list', '--pool', p])), { stdout: batchStdout(pools.map((p) => read(`vol-list-${p}.txt`))), stderr: read('vol-list-off.txt.stderr') });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolList(ctx);
    runner.verify();
    expect(JSON.parse(io.out).map((p: { name: string; volumeCount: number | null }) => [p.name, p.volumeCount])).toEqual([
      ['off', null],
      ['p', 7],
    ]);
  });

  it('an unreachable daemon is exit 5', async () => {
    const runner = new FakeRunner().stub((c: Command) => c.program === 'virsh', { exitCode: 1, stderr: recorded('err-virsh-unreachable.stderr') });
    expect((await outcome(runPoolList(testContext(runner).ctx))).code).toBe(5);
  });
});
