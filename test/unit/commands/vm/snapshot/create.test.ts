/** `vm snapshot create` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { offSnapshots, SNAP_READS } from './recorded-snapshots.js';
import { parseOutput } from '../../../../support/schemas.js';
import { mutations, recorded, runKvmctl, stubBatch, virshArgv } from '../../../../support/harness.js';

describe('vm snapshot create', () => {
  it('a new name is taken; an existing one is exit 4 and nothing is run', async () => {
    const ok = offSnapshots().stub(virshArgv('snapshot-create-as', '--domain', 'fxvm-off', '--name', 'before-upgrade', '--description', 'apt; reboot'), {});
    const a = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'before-upgrade', '--description', 'apt; reboot'], ok);
    expect([a.code, a.out]).toEqual([0, 'vm fxvm-off: snapshot before-upgrade created\n']);
    ok.verify();
    const json = offSnapshots().stub(virshArgv('snapshot-create-as', '--domain', 'fxvm-off', '--name', 'before-upgrade'), {});
    const j = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'before-upgrade', '-o', 'json'], json);
    expect(parseOutput(['vm', 'snapshot', 'create'], j.out)).toEqual({ changed: true, name: 'fxvm-off', snapshot: 'before-upgrade' });
    json.verify();
    const dup = offSnapshots();
    const b = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'snap1'], dup);
    expect([b.code, b.err]).toEqual([4, expect.stringMatching(/VM "fxvm-off" already has a snapshot "snap1"; it was left unchanged/)]);
    expect(mutations(dup)).toEqual([]);
  });

  it('without a name: snap-YYYYMMDD-HHMMSS', async () => {
    const runner = offSnapshots().stub((c) => c.args.includes('snapshot-create-as'), {});
    await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off'], runner);
    expect(mutations(runner)).toEqual([expect.stringMatching(/^virsh snapshot-create-as --domain fxvm-off --name snap-\d{8}-\d{6}$/)]);
  });

  it('a VM without disks cannot take one: libvirt says so; like every creating step, exit 7 with nothing changed and nothing else run', async () => {
    const name = 'fxvm odd;name';
    const runner = stubBatch(new FakeRunner(), SNAP_READS(name), [recorded('vm/virsh-dominfo-off.txt'), '', ''], recorded('vm/err-virsh-snapshot-current-none.stderr'));
    runner.stub(virshArgv('snapshot-create-as', '--domain', name, '--name', 's1'), { exitCode: 1, stderr: recorded('vm/err-virsh-snapshot-create-no-disks.stderr') });
    const r = await runKvmctl(['vm', 'snapshot', 'create', name, 's1'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/vm snapshot create fxvm odd;name s1 failed: VM "fxvm odd;name": virsh snapshot-create-as failed: unsupported configuration: nothing selected for snapshot; it had changed nothing yet, so nothing is left/);
    expect(mutations(runner)).toEqual(["virsh snapshot-create-as --domain fxvm odd;name --name s1"]);
    runner.verify();
  });

  it('a bad snapshot name is exit 2', async () => {
    const bad = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'a/b'], new FakeRunner());
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/invalid snapshot name "a\/b"/)]);
  });
});
