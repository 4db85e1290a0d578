import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { exitCodeOf } from '../../../src/errors.js';
import { refuseUnsafeVolumes } from '../../../src/storage/inventory.js';
import type { PoolRecord } from '../../../src/libvirt/storage.js';
import { outcome as codeOf, testContext } from '../../support/harness.js';
import { fakeFiles, poolPath, stubStorage } from '../../support/storage.js';

const P = poolPath('inuse', 'p');

describe('refuseUnsafeVolumes', () => {
  it('a volume a new VM would stand on: a symlink out of its pool or a chain to a file of no pool is exit 5 naming the volume; a chain within the pools reads nothing more', async () => {
    const dir: PoolRecord = { name: 'p', type: 'dir', state: 'running', active: true, autostart: false, persistent: true, targetPath: P, source: { devices: [] } };
    const pools = new Map([['p', dir]]);
    const evil = { ref: { pool: 'p', volume: 'evil.img' }, path: `${P}/evil.img`, backingFile: '/etc/shadow' };
    const probed = stubStorage(new FakeRunner(), 'inuse', { domains: false });
    const { ctx } = testContext(probed);
    expect(await codeOf(refuseUnsafeVolumes(ctx, [evil], pools, fakeFiles(), 'attach'))).toMatchObject({
      code: 5,
      message: 'volume p/evil.img has a header naming /etc/shadow, which is no volume of any pool: kvmctl does not attach through it (a raw disk whose guest wrote a qcow2 header looks like this)',
    });
    const link = { ref: { pool: 'p', volume: 'v' }, path: `${P}/v` };
    const e = await refuseUnsafeVolumes(ctx, [link], pools, fakeFiles({}, { [`${P}/v`]: '/srv/outside.img' }), 'attach').catch((x: unknown) => x);
    expect({ code: exitCodeOf(e), message: (e as Error).message, object: (e as { object?: unknown }).object }).toEqual({
      code: 5,
      message: `volume p/v leads to /srv/outside.img, outside pool p's directory ${P}: kvmctl does not attach a file outside the pool`,
      object: { kind: 'volume', name: 'p/v' },
    });
    const quiet = new FakeRunner();
    await refuseUnsafeVolumes(testContext(quiet).ctx, [link], pools, fakeFiles(), 'attach');
    expect(quiet.calls).toEqual([]);
  });
});
