/** kvmctl net forward list over a recorded firewall (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { AFTER, firewall } from './hosts.js';
import { runKvmctl, stubBatch, tableLines } from '../../../../support/harness.js';
import { stubLoadDomains, stubLoadNetworks } from '../../../../support/net.js';

describe('net forward list', () => {
  it('lists the forwards, with VM and network when libvirt knows the target', async () => {
    const withVm = AFTER.replace(/10\.77\.0\.2\b/g, '10.213.0.20');
    const r = await runKvmctl(['net', 'forward', 'list'], stubLoadDomains(stubLoadNetworks(firewall(withVm), { leases: true })));
    expect(r.code).toBe(0);
    expect(tableLines(r.out)).toEqual([
      'ID PROTO PORT TO VM NETWORK COMPLETE',
      'udp-5300-5310 udp 5300-5310 10.77.0.3:5300-5310 - - yes',
      'tcp-2222 tcp 2222 10.213.0.20:22 fxn-vm2 fxn-nat yes',
      '',
    ]);
  });

  it('without libvirt the forwards are still listed, with a warning', async () => {
    const runner = firewall(AFTER);
    stubBatch(runner, [['net-list', '--all']], [''], "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n");
    runner.stub((c) => c.program === 'virsh', { stderr: 'error: failed to connect to the hypervisor\n' }, Infinity);
    const r = await runKvmctl(['net', 'forward', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).map((f: { id: string }) => f.id)).toEqual(['udp-5300-5310', 'tcp-2222']);
    expect(r.err).toMatch(/^warning: VM and network names are not shown: cannot reach libvirt at qemu:\/\/\/system/);
  });

  it('makes the same number of calls for 1 forward and for 200', async () => {
    for (const count of [1, 200]) {
      const lines = Array.from({ length: count }, (_, i) => `-A PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport ${10000 + i} -m comment --comment "kvmctl:fwd:tcp-${10000 + i}" -j DNAT --to-destination 10.213.0.20:22`);
      const save = `*nat\n:PREROUTING ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n`;
      const r = await runKvmctl(['net', 'forward', 'list', '-o', 'json'], stubLoadDomains(stubLoadNetworks(firewall(save), { leases: true })));
      expect(JSON.parse(r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(5);
    }
  });
});
