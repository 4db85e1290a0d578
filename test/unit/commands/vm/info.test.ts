/** `vm info` from recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { recorded, runKvmctl, stubBatch } from '../../../support/harness.js';
import { infoWords, POOL_DIR, RECORDED_WEB, RECORDED_WEB_LEASE, stubOffVmInfo } from '../../../support/vm.js';


describe('vm info', () => {
  it('a running VM: state and reason, memory, disks with sizes, NICs with their lease, the serial console and its log', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, infoWords('fxvm-web'), [
      recorded('vm/virsh-dumpxml-web.xml'),
      recorded('vm/virsh-dominfo-web.txt'),
      recorded('vm/virsh-domstate-web.txt'),
      recorded('vm/virsh-domstats-block-web.txt'),
      recorded('vm/virsh-snapshot-list-web.txt'),
      recorded('vm/virsh-net-list-all.txt'),
      '',
    ]);
    stubBatch(runner, [['net-dhcp-leases', '--network', 'default']], [recorded('vm/virsh-net-dhcp-leases-default.txt')]);
    const r = await runKvmctl(['vm', 'info', 'fxvm-web', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const vm = parseOutput(['vm', 'info', 'fxvm-web'], r.out);
    expect(vm).toMatchObject({
      ...RECORDED_WEB,
      reason: 'booted',
      virtType: 'qemu',
      persistent: true,
      boot: { firmware: 'bios', devices: ['hd'], kernel: null, initrd: null, cmdline: null },
      snapshots: [],
    });
    expect(vm.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(vm.disks).toEqual([
      { target: 'vda', device: 'disk', bus: 'virtio', source: `${POOL_DIR}/fxvm-web.qcow2`, format: 'qcow2', capacityBytes: 1073741824, readonly: false },
      { target: 'sda', device: 'cdrom', bus: 'sata', source: `${POOL_DIR}/fxvm-web-seed.iso`, format: 'raw', capacityBytes: 374784, readonly: true },
    ]);
    expect(vm.nics).toEqual([{ type: 'network', source: 'default', model: 'virtio', mac: '52:54:00:f1:00:01', addresses: [RECORDED_WEB_LEASE] }]);
    expect(vm.addresses).toEqual([RECORDED_WEB_LEASE]);
    expect(vm.consoles).toEqual([{ kind: 'serial', type: 'pty', path: expect.stringMatching(/^\/dev\/pts\/\d+$/), logFile: `${POOL_DIR}/fxvm-web.serial.log` }]);
    runner.verify();
  });

  it('a shut-off VM in a table: no lease query; its snapshots listed', async () => {
    const runner = stubOffVmInfo(new FakeRunner());
    const r = await runKvmctl(['vm', 'info', 'fxvm-off'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^State\s+shutoff \(unknown\)$/m);
    expect(r.out).toMatch(/^Memory\s+128\.0 MiB of 128\.0 MiB$/m);
    expect(r.out).toMatch(/^vdb\s+disk\s+virtio\s+qcow2\s+64\.0 MiB\s+\/var\/tmp\/kvmctl-lab\/vm\/pools\/fxvm-pool\/fxvm-off-vdb\.qcow2$/m);
    expect(r.out).toMatch(/^snap2\s+\S+Z\s+shutoff\s+snap1\s+yes$/m);
    expect(runner.calls).toHaveLength(1);
  });

  it('a VM that does not exist is exit 3 naming it', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, infoWords('nosuch'), ['', '', '', '', '', recorded('vm/virsh-net-list-all.txt'), ''], "error: failed to get domain 'nosuch'\n".repeat(5));
    const r = await runKvmctl(['vm', 'info', 'nosuch'], runner);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^kvmctl: error: VM "nosuch" not found/);
  });

  it('an odd name is quoted for the batch and shown as it is', async () => {
    const runner = new FakeRunner();
    const name = 'fxvm odd;name';
    stubBatch(runner, infoWords(name), [recorded('vm/virsh-dumpxml-odd-inactive.xml'), '', recorded('vm/virsh-domstate-off.txt'), '', '', recorded('vm/virsh-net-list-all.txt'), '']);
    const r = await runKvmctl(['vm', 'info', name, '-o', 'json'], runner);
    expect(parseOutput(['vm', 'info', name], r.out)).toMatchObject({ name, state: 'shutoff', disks: [], nics: [], addresses: [] });
    expect(runner.calls[0]?.args[2]).toContain(`'${name}'`);
  });
});
