/** vm start of a VM whose disk may be the base image of another VM's overlay. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { stubInventory } from './recorded-inventory.js';
import { afterStart, STATE } from './vm-states.js';
import { mutations, runKvmctl, virshArgv } from '../../../support/harness.js';
import { POOL_DIR } from '../../../support/vm.js';

describe('vm start of a linked base', () => {
  const START = virshArgv('start', '--domain', 'fxvm-off');
  const SHUT = { stdout: 'shut off (shutdown)\n\n' };

  it("is refused (exit 5) while an overlay of another VM is backed by its disk, naming that VM; nothing is started", async () => {
    const runner = stubInventory(new FakeRunner().stub(STATE('fxvm-off'), SHUT), { webBacking: `${POOL_DIR}/fxvm-off.qcow2` });
    const r = await runKvmctl(['vm', 'start', 'fxvm-off'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/cannot start VM "fxvm-off": its disk vda is the base image of fxvm-pool\/fxvm-web\.qcow2 \(disk of VM fxvm-web\); writing to it would corrupt the disks of fxvm-web\nhint: start the clone instead, or delete it first \(kvmctl vm delete fxvm-web --remove-storage\); --force starts fxvm-off anyway/);
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });

  it('--force starts it anyway, without reading the inventory', async () => {
    const runner = afterStart(new FakeRunner().stub(STATE('fxvm-off'), SHUT).stub(START, {}), 'fxvm-off');
    const r = await runKvmctl(['vm', 'start', 'fxvm-off', '--force'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm fxvm-off started\n']);
    expect(mutations(runner)).toEqual(['virsh start --domain fxvm-off']);
    runner.verify();
  });

  it('a VM whose disks back no overlay starts as usual', async () => {
    const runner = afterStart(stubInventory(new FakeRunner().stub(STATE('fxvm-off'), SHUT).stub(START, {})), 'fxvm-off');
    const r = await runKvmctl(['vm', 'start', 'fxvm-off'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm fxvm-off started\n']);
    expect(mutations(runner)).toEqual(['virsh start --domain fxvm-off']);
    runner.verify();
  });
});
