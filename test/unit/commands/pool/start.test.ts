import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { exitCodeOf, type KvmctlError } from '../../../../src/errors.js';
import { mutations, outcome, recorded, testContext, virshArgv as virsh } from '../../../support/harness.js';
import { fakeFiles, poolPath, stubStorage } from '../../../support/storage.js';
import { runPoolStart } from '../../../../src/commands/pool/start.js';

describe('pool start', () => {
  it('on a running pool it is "unchanged", exit 0, nothing run', async () => {
    const a = testContext(stubStorage(new FakeRunner(), 'inuse', { only: ['p'], domains: false, volumes: false }));
    await runPoolStart(a.ctx, 'p');
    expect(a.io.out).toBe('storage pool p is already running: unchanged\n');
  });

  it('of a pool whose directory is gone says so and how to fix it (exit 5), locally before libvirt and from libvirt\'s message remotely', async () => {
    const P = poolPath('pair-used-off', 'p');
    const local = stubStorage(new FakeRunner(), 'pair-used-off', { only: ['p'], domains: false, volumes: false });
    const hint = `re-create the directory: mkdir -p -m 0711 -- ${P}, then run: kvmctl pool start p`;
    const message = `storage pool p: its directory ${P} does not exist (removed outside kvmctl?), so the pool cannot run`;
    expect(await outcome(runPoolStart(testContext(local).ctx, 'p', {}, fakeFiles()))).toEqual({ code: 5, message });
    expect(mutations(local)).toEqual([]);
    await runPoolStart(testContext(stubStorage(new FakeRunner(), 'pair-used-off', { only: ['p'], domains: false, volumes: false }).stub(virsh('pool-start', '--pool', 'p'), {})).ctx, 'p', {}, fakeFiles({ [P]: { kind: 'directory' } }));

    const remoteUri = 'qemu+ssh://h/system';
    const remote = stubStorage(new FakeRunner(), 'pair-used-off', { uri: remoteUri, only: ['p'], domains: false, volumes: false }).stub(
      ['virsh', '-c', remoteUri, 'pool-start', '--pool', 'p'],
      { exitCode: 1, stderr: recorded('storage/pair-used-off/err-pool-start-no-dir.stderr') },
    );
    const err = await runPoolStart(testContext(remote, { uri: remoteUri }).ctx, 'p', {}, fakeFiles()).catch((e: KvmctlError) => e);
    expect([exitCodeOf(err), (err as KvmctlError).message, (err as KvmctlError).hint]).toEqual([5, message, hint.replace('kvmctl pool', `kvmctl -c ${remoteUri} pool`)]);
  });
});
