/** `vm set` against recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { mutations, recorded, runKvmctl, stubBatch, virshArgv } from '../../../support/harness.js';
import { stubOffVmInfo } from '../../../support/vm.js';

const STATE = (name: string) => virshArgv('domstate', '--domain', name, '--reason');
const SET_READS = (name: string) => [['dumpxml', '--domain', name, '--inactive'], ['dominfo', '--domain', name], ['nodeinfo'], ['nodememstats']];

/** fxvm-off as recorded: 2 vCPUs, 128 MiB, shut off. */
function offVm(runner = new FakeRunner()): FakeRunner {
  runner.stub(STATE('fxvm-off'), { stdout: recorded('vm/virsh-domstate-off.txt') });
  stubBatch(runner, SET_READS('fxvm-off'), [recorded('vm/virsh-dumpxml-off-inactive.xml'), recorded('vm/virsh-dominfo-off.txt'), recorded('vm/virsh-nodeinfo.txt'), recorded('vm/virsh-nodememstats.txt')]);
  return runner;
}

/** The limits of fxvm-off's own type, arch and machine, as recorded: at most 255 vCPUs. */
function withDomcaps(runner: FakeRunner): FakeRunner {
  return runner.stub(virshArgv('domcapabilities', '--virttype', 'qemu', '--arch', 'x86_64', '--machine', 'pc-i440fx-7.2'), { stdout: recorded('vm/virsh-domcapabilities-qemu-x86_64-i440fx.xml') });
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
    const runner = withDomcaps(offVm());
    for (const words of [['setvcpus', '--domain', 'fxvm-off', '--count', '4', '--maximum', '--config'], ['setvcpus', '--domain', 'fxvm-off', '--count', '4', '--config'], ['setmaxmem', '--domain', 'fxvm-off', '--size', '262144KiB', '--config'], ['setmem', '--domain', 'fxvm-off', '--size', '262144KiB', '--config']]) {
      runner.stub(virshArgv(...words), {});
    }
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
    // -o json reads the VM again (vm info's reads) and prints it whole.
    const runner = stubOffVmInfo(withDomcaps(offVm()));
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '2', '--memory', '128M', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'set', 'fxvm-off'], r.out)).toMatchObject({ changed: false, name: 'fxvm-off', vcpus: 2, memoryBytes: 128 * 1024 ** 2, maxMemoryBytes: 128 * 1024 ** 2, state: 'shutoff' });
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });

  it('a failure halfway puts back what it had changed, newest first (exit 7)', async () => {
    const runner = withDomcaps(offVm());
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '3', '--maximum', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '3', '--config'), {});
    // The undo of the two steps that ran, newest first: the count, then the maximum.
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--maximum', '--config'), {});
    // The third change (setmaxmem) fails, as KVMCTL_FAULT makes it.
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '3', '--memory', '512M'], runner, { env: { KVMCTL_FAULT: 'fail:3' } });
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/vm set fxvm-off failed: .*injected.*; everything it had done was undone/);
    expect(mutations(runner).slice(2)).toEqual(['virsh setvcpus --domain fxvm-off --count 2 --config', 'virsh setvcpus --domain fxvm-off --count 2 --maximum --config']);
    runner.verify();
  });

  it('a cut sets the amount in use before the maximum, so that its undo raises the maximum first', async () => {
    const runner = withDomcaps(offVm());
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '1', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '1', '--maximum', '--config'), {});
    runner.stub(virshArgv('setmem', '--domain', 'fxvm-off', '--size', '65536KiB', '--config'), {});
    runner.stub(virshArgv('setmem', '--domain', 'fxvm-off', '--size', '131072KiB', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--maximum', '--config'), {});
    runner.stub(virshArgv('setvcpus', '--domain', 'fxvm-off', '--count', '2', '--config'), {});
    // The fourth change (setmaxmem) fails, as KVMCTL_FAULT makes it.
    const r = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '1', '--memory', '64M'], runner, { env: { KVMCTL_FAULT: 'fail:4' } });
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/setmaxmem/);
    expect(mutations(runner)).toEqual([
      'virsh setvcpus --domain fxvm-off --count 1 --config',
      'virsh setvcpus --domain fxvm-off --count 1 --maximum --config',
      'virsh setmem --domain fxvm-off --size 65536KiB --config',
      'virsh setmem --domain fxvm-off --size 131072KiB --config',
      'virsh setvcpus --domain fxvm-off --count 2 --maximum --config',
      'virsh setvcpus --domain fxvm-off --count 2 --config',
    ]);
    runner.verify();
  });

  it('--live changes the running guest within its maximum', async () => {
    const runner = new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('vm/virsh-domstate-web.txt') });
    stubBatch(runner, SET_READS('fxvm-web'), [recorded('vm/virsh-dumpxml-web-inactive.xml'), recorded('vm/virsh-dominfo-web.txt'), recorded('vm/virsh-nodeinfo.txt'), recorded('vm/virsh-nodememstats.txt')]);
    runner.stub(virshArgv('setmem', '--domain', 'fxvm-web', '--size', '196608KiB', '--live'), {});
    const r = await runKvmctl(['vm', 'set', 'fxvm-web', '--memory', '192M', '--live'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm fxvm-web set to 192.0 MiB, now (until it stops)\n']);
    runner.verify();

    const over = new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('vm/virsh-domstate-web.txt') });
    stubBatch(over, SET_READS('fxvm-web'), [recorded('vm/virsh-dumpxml-web-inactive.xml'), recorded('vm/virsh-dominfo-web.txt'), recorded('vm/virsh-nodeinfo.txt'), recorded('vm/virsh-nodememstats.txt')]);
    const o = await runKvmctl(['vm', 'set', 'fxvm-web', '--memory', '1G', '--live'], over);
    expect([o.code, o.err]).toEqual([5, expect.stringMatching(/--live --memory 1\.0 GiB: VM "fxvm-web" was started with at most 256\.0 MiB/)]);
    expect(mutations(over)).toEqual([]);
  });

  it('--live on a shut-off VM, or nothing to set, is refused before any change', async () => {
    const off = new FakeRunner().stub(STATE('fxvm-off'), { stdout: recorded('vm/virsh-domstate-off.txt') });
    const a = await runKvmctl(['vm', 'set', 'fxvm-off', '--vcpus', '1', '--live'], off);
    expect([a.code, a.err]).toEqual([5, expect.stringMatching(/--live: VM "fxvm-off" is shutoff/)]);
    const b = await runKvmctl(['vm', 'set', 'fxvm-off'], new FakeRunner());
    expect([b.code, b.err]).toEqual([2, expect.stringMatching(/vm set: nothing to change/)]);
    const c = await runKvmctl(['vm', 'set', 'fxvm-off', '--memory', 'much'], new FakeRunner());
    expect(c.code).toBe(2);
  });
});

const SNAP_READS = (name: string) => [['dominfo', '--domain', name], ['snapshot-list', '--domain', name, '--parent'], ['snapshot-current', '--domain', name, '--name']];
