import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { runPoolList } from '../../../../src/commands/pool/list.js';
import { outcome } from '../../../support/harness.js';
import { batchArgv, batchOut, stubStorage, testContext, URI, type FakePool } from '../../storage-harness.js';

const full: FakePool = { name: 'p', path: '/pools/p', volumes: [{ name: 'a.qcow2' }, { name: 'b.raw', format: 'raw' }] };

describe('pool list', () => {
  it('one table for all pools; inactive sizes are unknown, not zero', async () => {
    const { ctx, io } = testContext(stubStorage(new FakeRunner(), { pools: [full, { name: 'off', state: 'inactive' }] }, { domains: false, volumes: false, namesOnly: true }));
    await runPoolList(ctx);
    expect(io.out.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATE\s+AUTOSTART\s+PATH\s+CAPACITY\s+ALLOCATION\s+AVAILABLE\s+VOLUMES$/);
    expect(io.out).toMatch(/^p\s+dir\s+running\s+no\s+\/pools\/p\s+200\.0 GiB\s+0 B\s+100\.0 GiB\s+2$/m);
    expect(io.out).toMatch(/^off\s+dir\s+inactive\s+no\s+\/pools\/off\s+-\s+-\s+-\s+-$/m);
  });

  it('counts volumes from the names virsh completes (one listing call), never vol-list, which looks up every path', async () => {
    const odd: FakePool = { name: 'q', path: '/pools/q', volumes: [{ name: 'a b.img' }, { name: '.kvmctl-images' }, { name: "x'y.raw" }] };
    const runner = stubStorage(new FakeRunner(), { pools: [odd, { name: 'empty', path: '/pools/empty', volumes: [] }] }, { domains: false, volumes: false, namesOnly: true });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolList(ctx);
    runner.verify();
    // kvmctl's image store is no volume to count.
    expect(JSON.parse(io.out).map((p: { name: string; volumeCount: number }) => [p.name, p.volumeCount])).toEqual([
      ['q', 2],
      ['empty', 0],
    ]);
    expect(runner.calls.some((c) => c.args.join(' ').includes('vol-list'))).toBe(false);
  });

  it('a virsh without the complete command: the pools it could not count are listed with vol-list, in one more process', async () => {
    const pools = ['p', 'off'];
    const runner = new FakeRunner()
      .stub(batchArgv(URI, [['pool-list', '--all', '--name']]), { stdout: 'p\noff\n\n' })
      .stub(batchArgv(URI, pools.flatMap((p) => [['pool-info', '--pool', p], ['pool-dumpxml', '--pool', p], ['complete', '--', 'vol-info', '--pool', p, '--vol', '']])), {
        stdout: batchOut(pools.flatMap((p) => [`Name:           ${p}\nState:          ${p === 'p' ? 'running' : 'inactive'}\nPersistent:     yes\nAutostart:      no\n\n`, `<pool type='dir'><name>${p}</name><target><path>/pools/${p}</path></target></pool>\n`, '\n'])),
        stderr: "error: unknown command: 'complete'\nerror: unknown command: 'complete'\n",
      })
      .stub(batchArgv(URI, [['vol-list', '--pool', 'p'], ['vol-list', '--pool', 'off']]), { stdout: batchOut([' Name      Path\n----------------\n a.qcow2   /pools/p/a.qcow2\n\n', '']) });
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runPoolList(ctx);
    runner.verify();
    expect(JSON.parse(io.out).map((p: { name: string; volumeCount: number | null }) => [p.name, p.volumeCount])).toEqual([
      ['p', 1],
      ['off', null],
    ]);
  });

  it('an unreachable daemon is exit 5', async () => {
    const runner = new FakeRunner().stub((c: Command) => c.program === 'virsh', { exitCode: 1, stderr: 'error: failed to connect to the hypervisor\n' });
    expect((await outcome(runPoolList(testContext(runner).ctx))).code).toBe(5);
  });
});
