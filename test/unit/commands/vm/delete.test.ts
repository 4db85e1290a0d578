/** vm delete: what it removes, what it keeps and why, and what is left when a step fails. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDomainXml } from '../../../../src/libvirt/domain-xml.js';
import type { DomainRecord } from '../../../../src/libvirt/domains.js';
import type { VolumeRecord } from '../../../../src/libvirt/storage.js';
import { storageDecisions } from '../../../../src/commands/vm/delete.js';
import { backingChainUses } from '../../../../src/storage/chains.js';
import { fakeFiles } from '../../../support/storage.js';
import { stubInventory } from './recorded-inventory.js';
import { RUNNING, STATE } from './vm-states.js';
import { mutations, recorded, runKvmctl, virshArgv } from '../../../support/harness.js';

const UNDEFINE = (name: string) => virshArgv('undefine', '--domain', name, '--nvram', '--snapshots-metadata', '--checkpoints-metadata', '--managed-save');

describe('vm delete', () => {
  it('--force --remove-storage: power off, undefine, remove its overlay, its seed and its serial log', async () => {
    const runner = stubInventory(new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('vm/virsh-domstate-web.txt') }));
    runner.stub(virshArgv('destroy', '--domain', 'fxvm-web'), {}).stub(UNDEFINE('fxvm-web'), {});
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-web.qcow2'), {});
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-web-seed.iso'), {});
    runner.stub(virshArgv('pool-refresh', '--pool', 'fxvm-pool'), {});
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-web.serial.log'), {});
    const r = await runKvmctl(['vm', 'delete', 'fxvm-web', '--force', '--remove-storage'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('vm fxvm-web deleted\n  removed fxvm-pool/fxvm-web.qcow2\n  removed fxvm-pool/fxvm-web-seed.iso\n');
    expect(mutations(runner)).toEqual([
      'virsh destroy --domain fxvm-web',
      'virsh undefine --domain fxvm-web --nvram --snapshots-metadata --checkpoints-metadata --managed-save',
      'virsh vol-delete --pool fxvm-pool --vol fxvm-web.qcow2',
      'virsh vol-delete --pool fxvm-pool --vol fxvm-web-seed.iso',
      'virsh pool-refresh --pool fxvm-pool',
      'virsh vol-delete --pool fxvm-pool --vol fxvm-web.serial.log',
    ]);
    runner.verify();
  });

  it('a running VM without --force is exit 5 and left as it is', async () => {
    const runner = new FakeRunner().stub(STATE('fxvm-web'), { stdout: recorded('vm/virsh-domstate-web.txt') });
    const r = await runKvmctl(['vm', 'delete', 'fxvm-web', '--remove-storage'], runner);
    expect([r.code, r.err]).toEqual([5, expect.stringMatching(/VM "fxvm-web" is running; it was left unchanged\nhint: stop it first \(kvmctl vm stop fxvm-web\), or add --force/)]);
    expect(mutations(runner)).toEqual([]);
  });

  it('without --remove-storage only the definition goes, and the output says the disks were kept', async () => {
    const runner = new FakeRunner().stub(STATE('fxvm off'), { stdout: recorded('vm/virsh-domstate-off.txt') }).stub(UNDEFINE('fxvm off'), {});
    const r = await runKvmctl(['vm', 'delete', 'fxvm off'], runner);
    expect(r.out).toBe('vm fxvm off deleted\n  its disks were kept (add --remove-storage to remove them)\n');
    expect(mutations(runner)).toEqual(["virsh undefine --domain fxvm off --nvram --snapshots-metadata --checkpoints-metadata --managed-save"]);
  });

  it('a volume that cannot be removed is exit 8, naming it and the command that removes it', async () => {
    const runner = stubInventory(new FakeRunner().stub(STATE('fxvm-off'), { stdout: recorded('vm/virsh-domstate-off.txt') }));
    runner.stub(UNDEFINE('fxvm-off'), {});
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-off.qcow2'), {});
    runner.stub(virshArgv('pool-refresh', '--pool', 'fxvm-pool'), {});
    // The log was never written (recorded: a volume that does not exist): nothing is left of it.
    runner.stub(virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'fxvm-off.serial.log'), { exitCode: 1, stderr: readFileSync('test/fixtures/recorded/err-virsh-vol-dumpxml-nosuch.stderr', 'utf8') });
    // The third state change, the second volume's vol-delete, fails as KVMCTL_FAULT makes it.
    const r = await runKvmctl(['vm', 'delete', 'fxvm-off', '--remove-storage'], runner, { env: { KVMCTL_FAULT: 'fail:3' } });
    expect(r.code).toBe(8);
    expect(r.err).toMatch(/VM "fxvm-off" was deleted, but 1 of its volumes could not be removed \(.*injected fault/);
    expect(r.err).toMatch(/left behind:\n  - volume fxvm-pool\/fxvm-off-vdb\.qcow2 \(remove with: virsh -c qemu:\/\/\/system vol-delete --pool fxvm-pool --vol fxvm-off-vdb\.qcow2\)/);
    runner.verify();
  });
  it('a transient VM is gone once powered off: undefine not finding it (recorded) is a success', async () => {
    const runner = new FakeRunner().stub(STATE('nosuch'), RUNNING).stub(virshArgv('destroy', '--domain', 'nosuch'), {});
    runner.stub(UNDEFINE('nosuch'), { exitCode: 1, stderr: recorded('vm/err-virsh-undefine-nosuch.stderr') });
    const r = await runKvmctl(['vm', 'delete', 'nosuch', '--force'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm nosuch deleted\n  its disks were kept (add --remove-storage to remove them)\n']);
    expect(mutations(runner)).toEqual(['virsh destroy --domain nosuch', 'virsh undefine --domain nosuch --nvram --snapshots-metadata --checkpoints-metadata --managed-save']);
    runner.verify();
  });

  it('an undefine that fails otherwise says the VM was powered off but is still defined (exit 5, nothing deleted)', async () => {
    const runner = new FakeRunner().stub(STATE('fxvm-web'), RUNNING).stub(virshArgv('destroy', '--domain', 'fxvm-web'), {});
    runner.stub(UNDEFINE('fxvm-web'), { exitCode: 1, stderr: readFileSync('test/fixtures/recorded/err-virsh-unreachable.stderr', 'utf8') });
    const r = await runKvmctl(['vm', 'delete', 'fxvm-web', '--force'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/cannot reach libvirt at qemu:\/\/\/system \(Failed to connect socket to '\/nonexistent\/libvirt-sock': No such file or directory\); it was powered off but is still defined, and nothing was deleted/);
    expect(mutations(runner)).toEqual(['virsh destroy --domain fxvm-web', 'virsh undefine --domain fxvm-web --nvram --snapshots-metadata --checkpoints-metadata --managed-save']);
    runner.verify();
  });
});

describe('which volumes delete --remove-storage removes', () => {
  const vol = (name: string, backing?: string): VolumeRecord => ({ pool: 'p', name, path: `/p/${name}`, format: 'qcow2', backingFile: backing });
  async function record(name: string, disks: string): Promise<DomainRecord> {
    const xml = `<domain type='qemu'><name>${name}</name><metadata><k:domain xmlns:k="urn:kvmctl:domain:1"><k:seed pool="p" volume="${name}-seed.iso"/></k:domain></metadata><memory>1</memory><os><type>hvm</type></os><devices>${disks}</devices></domain>`;
    return { name, state: 'shutoff', autostart: false, definition: await parseDomainXml(xml) };
  }
  const disk = (file: string, target: string, extra = '') => `<disk type='file' device='disk'><source file='${file}'/><target dev='${target}' bus='virtio'/>${extra}</disk>`;
  const cdrom = (file: string, target: string) => `<disk type='file' device='cdrom'><source file='${file}'/><target dev='${target}' bus='sata'/><readonly/></disk>`;

  it('keeps shared bases, other VMs\' disks, install media and files outside pools, and says why', async () => {
    const vm = await record(
      'a',
      disk('/p/a.qcow2', 'vda') + disk('/p/shared.qcow2', 'vdb') + disk('/p/golden.qcow2', 'vdc') + disk('/srv/raw.img', 'vdd') + disk('/p/ro.qcow2', 'vde', '<readonly/>') + cdrom('/p/debian.iso', 'sda') + cdrom('/p/a-seed.iso', 'sdb'),
    );
    const other = await record('b', disk('/p/shared.qcow2', 'vda'));
    const volumes = [vol('a.qcow2', '/p/base.qcow2'), vol('base.qcow2'), vol('shared.qcow2'), vol('golden.qcow2'), vol('clone.qcow2', '/p/golden.qcow2'), vol('ro.qcow2'), vol('debian.iso'), vol('a-seed.iso')];
    const decisions = storageDecisions(vm, [other], volumes);
    expect(decisions.map((d) => [d.target, d.remove, d.reason])).toEqual([
      ['vda', true, undefined],
      ['vdb', false, 'used by VM b'],
      ['vdc', false, 'base image of p/clone.qcow2'],
      ['vdd', false, 'not a volume of an active storage pool; remove it by hand if it is no longer needed'],
      ['vde', false, 'install media and read-only disks are never removed'],
      ['sda', false, 'install media and read-only disks are never removed'],
      ['sdb', true, undefined],
    ]);
  });

  it('keeps a volume that another VM\'s disk outside every pool stands on (read from its qcow2 header); a raw-declared disk\'s bytes are not read', async () => {
    const header = readFileSync(new URL('../../../fixtures/recorded/storage/images/backing.qcow2.head', import.meta.url));
    const files = fakeFiles({ '/srv/b-over.qcow2': { header }, '/srv/c.raw': { header } });
    const qcow2 = (file: string) => `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='vda' bus='virtio'/></disk>`;
    const raw = (file: string) => `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${file}'/><target dev='vda' bus='virtio'/></disk>`;
    const b = await record('b', qcow2('/srv/b-over.qcow2'));
    const c = await record('c', raw('/srv/c.raw'));
    const chains = await backingChainUses([b, c], files);
    // The recorded header's backing file is /etc/hostname.
    expect([...chains.entries()]).toEqual([['/etc/hostname', [{ vm: 'b', disk: '/srv/b-over.qcow2' }]]]);
    const vm = await record('a', disk('/etc/hostname', 'vda'));
    const decisions = storageDecisions(vm, [b, c], [{ ...vol('hostname'), path: '/etc/hostname' }], chains);
    expect(decisions.map((d) => [d.target, d.remove, d.reason])).toEqual([['vda', false, 'in the backing chain of VM b (disk /srv/b-over.qcow2)']]);
  });
});
