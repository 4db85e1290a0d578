/**
 * vm create draws each new MAC against every MAC in use: those of all defined
 * VMs (read with loadDomains) and those this request gives with mac=. The MAC
 * module is replaced by one that records what it was told is used.
 */
import { describe, expect, it, vi } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDomainXml } from '../../../../src/libvirt/domain-xml.js';
import { batchArgv, batchStdout, callOf, recorded, runKvmctl } from '../../../support/harness.js';
import { stubDomainList } from '../../../support/vm.js';

const seen = vi.hoisted(() => ({ used: [] as string[][] }));
vi.mock(import('../../../../src/libvirt/mac.js'), async (original) => ({
  ...(await original()),
  randomMac: (used: ReadonlySet<string>) => {
    seen.used.push([...used].sort());
    return `52:54:00:00:00:0${seen.used.length}`;
  },
}));

describe('vm create: fresh MACs', () => {
  it('avoid every defined VM\'s MACs and the ones the request gives, and each other', async () => {
    const runner = new FakeRunner();
    runner.stub(batchArgv([['dumpxml', '--domain', 'k1', '--inactive'], ['capabilities'], ['nodeinfo'], ['nodememstats'], ['net-list', '--all'], ['domcapabilities', '--virttype', 'qemu'], ['domcapabilities', '--virttype', 'kvm']]), {
      // The lab has no usable KVM: virsh-domcapabilities-kvm.stderr, nothing on stdout.
      stdout: batchStdout(['', recorded('vm/virsh-capabilities.xml'), recorded('vm/virsh-nodeinfo.txt'), recorded('vm/virsh-nodememstats.txt'), recorded('vm/virsh-net-list-all.txt'), recorded('vm/virsh-domcapabilities-qemu.xml'), '']),
      stderr: "error: failed to get domain 'k1'\n",
    });
    stubDomainList(runner, [{ name: 'fxvm-off', state: 5, xml: recorded('vm/virsh-dumpxml-off-inactive.xml') }]);
    runner.stub((c) => c.args.includes('define'), {});
    const r = await runKvmctl(['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz', '--network', 'bridge=br0', '--network', 'bridge=br0,mac=52:54:00:aa:bb:cc', '--network', 'bridge=br1', '--virt-type', 'qemu', '--no-start'], runner, { files: {} });
    expect([r.code, r.err]).toEqual([0, '']);
    // fxvm-off's NIC, the given mac=, then also the first fresh one.
    expect(seen.used).toEqual([
      ['52:54:00:aa:bb:cc', '52:54:00:f1:00:02'],
      ['52:54:00:00:00:01', '52:54:00:aa:bb:cc', '52:54:00:f1:00:02'],
    ]);
    const def = await parseDomainXml(callOf(runner, (c) => c.args.includes('define')).input ?? '');
    expect(def.interfaces.map((n) => n.mac)).toEqual(['52:54:00:00:00:01', '52:54:00:aa:bb:cc', '52:54:00:00:00:02']);
  });
});
