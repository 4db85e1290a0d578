/** `vm set` and `vm snapshot …` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { mutations, recorded, runKvmctl, stubBatch, virshArgv } from './vm-harness.js';

const STATE = (name: string) => virshArgv('domstate', '--domain', name, '--reason');
const SET_READS = (name: string) => [['dumpxml', '--domain', name, '--inactive'], ['dominfo', '--domain', name], ['nodeinfo'], ['nodememstats']];

/** fxvm-off as recorded: 2 vCPUs, 128 MiB, shut off. */
function offVm(runner = new FakeRunner()): FakeRunner {
  runner.stub(STATE('fxvm-off'), { stdout: recorded('virsh-domstate-off.txt') });
  stubBatch(runner, SET_READS('fxvm-off'), [recorded('virsh-dumpxml-off-inactive.xml'), recorded('virsh-dominfo-off.txt'), recorded('virsh-nodeinfo.txt'), recorded('virsh-nodememstats.txt')]);
  return runner;
}

/** The limits of fxvm-off's own type, arch and machine, as recorded: at most 255 vCPUs. */
function withDomcaps(runner: FakeRunner): FakeRunner {
  return runner.stub(virshArgv('domcapabilities', '--virttype', 'qemu', '--arch', 'x86_64', '--machine', 'pc-i440fx-7.2'), { stdout: recorded('virsh-domcapabilities-qemu-x86_64-i440fx.xml') });
}

describe('vm set', () => {
  it("--vcpus above what the host allows for this VM's type, arch and machine is exit 2 with the limit; nothing is run", async () => {
    const runner = withDomcaps(offVm());
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '256'], runner);
    expect(r.code).toBe(2);
    expect(r.err).toBe('kvmctl: error: --vcpus 256 for VM "fxvm-off": this host allows at most 255 vCPUs for a qemu x86_64 pc-i440fx-7.2 guest (libvirt\'s domain capabilities)\nhint: give --vcpus 255 or fewer\n');
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });

  it('changes the definition: maximum first, then the amount in use; warns about overcommit', async () => {
    const runner = withDomcaps(offVm()).stub((c) => c.mutates, {}, Infinity);
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '4', '--memory', '256M'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('vm fxvm-off set to 4 vCPUs, 256.0 MiB, from the next start\n');
    expect(r.err).toMatch(/warning: 4 vCPUs is more than the host's 2 CPUs/);
    expect(mutations(runner)).toEqual([
      'virsh setvcpus --domain fxvm-off --count 4 --maximum --config',
      'virsh setvcpus --domain fxvm-off --count 4 --config',
      'virsh setmaxmem --domain fxvm-off --size 262144KiB --config',
      'virsh setmem --domain fxvm-off --size 262144KiB --config',
    ]);
  });

  it('the values it already has: unchanged, nothing run', async () => {
    const runner = withDomcaps(offVm());
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '2', '--memory', '128M', '-o', 'json'], runner);
    expect(JSON.parse(r.out)).toEqual({ name: 'fxvm-off', vcpus: 2, memoryBytes: 128 * 1024 ** 2, live: false, config: true, changed: false });
    expect(mutations(runner)).toEqual([]);
  });

  it('a failure halfway puts back what it had changed (exit 7)', async () => {
    const runner = withDomcaps(offVm());
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '3', '--maximum', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '3', '--config'), {});
    runner.stub(virshArgv('setmaxmem', '--domain', 'fxvm-off', '--size', '524288KiB', '--config'), { exitCode: 1, stderr: 'error: internal error: injected\n' });
    // The undo of both changes, newest first.
    runner.stub(virshArgv('setmaxmem', '--domain', 'fxvm-off', '--size', '131072KiB', '--config'), {});
    runner.stub(virshArgv('setmem', '--domain', 'fxvm-off', '--size', '131072KiB', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--maximum', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--config'), {});
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '3', '--memory', '512M'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/vm set fxvm-off failed: .*injected; everything it had done was undone/);
    expect(mutations(runner).slice(3)).toEqual([
      'virsh setmaxmem --domain fxvm-off --size 131072KiB --config',
      'virsh setmem --domain fxvm-off --size 131072KiB --config',
      'virsh setvcpus --domain fxvm-off --count 2 --maximum --config',
      'virsh setvcpus --domain fxvm-off --count 2 --config',
    ]);
    runner.verify();
  });

  it('--live changes the running guest within its maximum', async () => {
    const runner = new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('virsh-domstate-web.txt') });
    stubBatch(runner, SET_READS('fxvm-web'), [recorded('virsh-dumpxml-web-inactive.xml'), recorded('virsh-dominfo-web.txt'), recorded('virsh-nodeinfo.txt'), recorded('virsh-nodememstats.txt')]);
    runner.stub(virshArgv('setmem', '--domain', 'fxvm-web', '--size', '196608KiB', '--live'), {});
    const r = await runKvmctl(['vm', 'set', 'fxvm-web', '--memory', '192M', '--live'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm fxvm-web set to 192.0 MiB, now (until it stops)\n']);
    runner.verify();

    const over = new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('virsh-domstate-web.txt') });
    stubBatch(over, SET_READS('fxvm-web'), [recorded('virsh-dumpxml-web-inactive.xml'), recorded('virsh-dominfo-web.txt'), recorded('virsh-nodeinfo.txt'), recorded('virsh-nodememstats.txt')]);
    const o = await runKvmctl(['vm', 'set', 'fxvm-web', '--memory', '1G', '--live'], over);
    expect([o.code, o.err]).toEqual([5, expect.stringMatching(/--live --memory 1\.0 GiB: VM "fxvm-web" was started with at most 256\.0 MiB/)]);
    expect(mutations(over)).toEqual([]);
  });

  it('--live on a shut-off VM, or nothing to set, is refused before any change', async () => {
    const off = new FakeRunner().stub(STATE('fxvm-off'), { stdout: recorded('virsh-domstate-off.txt') });
    const a = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '1', '--live'], off);
    expect([a.code, a.err]).toEqual([5, expect.stringMatching(/--live: VM "fxvm-off" is shutoff/)]);
    const b = await runKvmctl(['vm', 'set', 'fxvm-off'], new FakeRunner());
    expect([b.code, b.err]).toEqual([2, expect.stringMatching(/vm set: nothing to change/)]);
    const c = await runKvmctl(['vm', 'set', 'fxvm-off', '--memory', 'much'], new FakeRunner());
    expect(c.code).toBe(2);
  });
});

const SNAP_READS = (name: string) => [['dominfo', '--domain', name], ['snapshot-list', '--domain', name, '--parent'], ['snapshot-current', '--domain', name, '--name']];

describe('vm snapshot', () => {
  function offSnapshots(runner = new FakeRunner()): FakeRunner {
    return stubBatch(runner, SNAP_READS('fxvm-off'), [recorded('virsh-dominfo-off.txt'), recorded('virsh-snapshot-list-off.txt'), recorded('virsh-snapshot-current-off.txt')]);
  }

  it('list: name, ISO time, state, parent, which is current', async () => {
    const r = await runKvmctl(['vm', 'snapshot', 'list', 'fxvm-off', '-o', 'json'], offSnapshots());
    expect(JSON.parse(r.out)).toEqual([
      { name: 'snap1', createdAt: expect.stringMatching(/Z$/), state: 'shutoff', current: false },
      { name: 'snap2', createdAt: expect.stringMatching(/Z$/), state: 'shutoff', parent: 'snap1', current: true },
    ]);
  });

  it('create: a new name is taken; an existing one is exit 4 and nothing is run', async () => {
    const ok = offSnapshots().stub(virshArgv('snapshot-create-as', '--domain', 'fxvm-off', '--name', 'before-upgrade', '--description', 'apt; reboot'), {});
    const a = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'before-upgrade', '--description', 'apt; reboot'], ok);
    expect([a.code, a.out]).toEqual([0, 'vm fxvm-off: snapshot before-upgrade created\n']);
    ok.verify();
    const dup = offSnapshots();
    const b = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'snap1'], dup);
    expect([b.code, b.err]).toEqual([4, expect.stringMatching(/VM "fxvm-off" already has a snapshot "snap1"; it was left unchanged/)]);
    expect(mutations(dup)).toEqual([]);
  });

  it('create without a name: snap-YYYYMMDD-HHMMSS', async () => {
    const runner = offSnapshots().stub((c) => c.args.includes('snapshot-create-as'), {});
    await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off'], runner);
    expect(mutations(runner)).toEqual([expect.stringMatching(/^virsh snapshot-create-as --domain fxvm-off --name snap-\d{8}-\d{6}$/)]);
  });

  it('a VM without disks cannot take one: libvirt says so (exit 1), nothing else runs', async () => {
    const name = 'fxvm odd;name';
    const runner = stubBatch(new FakeRunner(), SNAP_READS(name), [recorded('virsh-dominfo-off.txt'), '', ''], recorded('err-virsh-snapshot-current-none.stderr'));
    runner.stub(virshArgv('snapshot-create-as', '--domain', name, '--name', 's1'), { exitCode: 1, stderr: recorded('err-virsh-snapshot-create-no-disks.stderr') });
    const r = await runKvmctl(['vm', 'snapshot', 'create', name, 's1'], runner);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/VM "fxvm odd;name": virsh snapshot-create-as failed: unsupported configuration: nothing selected for snapshot/);
  });

  it('revert and delete name the snapshot; a missing one is exit 3', async () => {
    const ok = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'snap1'), {}).stub(virshArgv('snapshot-delete', '--domain', 'fxvm-off', '--snapshotname', 'snap2'), {});
    expect((await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'snap1'], ok)).out).toBe('vm fxvm-off reverted to snapshot snap1\n');
    expect((await runKvmctl(['vm', 'snapshot', 'delete', 'fxvm-off', 'snap2'], ok)).out).toBe('vm fxvm-off: snapshot snap2 deleted\n');
    ok.verify();
    const missing = new FakeRunner().stub(virshArgv('snapshot-revert', '--domain', 'fxvm-off', '--snapshotname', 'nosuch'), { exitCode: 1, stderr: recorded('err-virsh-snapshot-revert-nosuch.stderr') });
    const r = await runKvmctl(['vm', 'snapshot', 'revert', 'fxvm-off', 'nosuch'], missing);
    expect([r.code, r.err]).toEqual([3, expect.stringMatching(/snapshot "nosuch" not found[\s\S]*kvmctl vm snapshot list/)]);
  });

  it('a VM that does not exist is exit 3; a bad snapshot name is exit 2', async () => {
    const runner = stubBatch(new FakeRunner(), SNAP_READS('nosuch'), ['', '', ''], "error: failed to get domain 'nosuch'\n");
    expect((await runKvmctl(['vm', 'snapshot', 'list', 'nosuch'], runner)).code).toBe(3);
    const bad = await runKvmctl(['vm', 'snapshot', 'create', 'fxvm-off', 'a/b'], new FakeRunner());
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/invalid snapshot name "a\/b"/)]);
  });
});
