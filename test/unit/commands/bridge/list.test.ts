/** kvmctl bridge list over recorded ip -j and virsh domstats output (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { VNET, domstats, labLinks, nsLinks } from './hosts.js';
import { runKvmctl } from '../../../support/harness.js';

describe('bridge list', () => {
  it('shows each bridge with its ports and the VM behind each tap', async () => {
    const r = await runKvmctl(['bridge', 'list', '-o', 'json'], labLinks());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const bridges = parseOutput<Array<{ name: string; ports: unknown[]; vms: string[]; stp: boolean; addresses: unknown[] }>>(['bridge', 'list'], r.out);
    expect(bridges.map((b) => b.name)).toEqual(['virbr0', 'fxbr0', 'virbr1', 'virbr2']);
    expect(bridges.find((b) => b.name === 'virbr1')).toMatchObject({ state: 'up', stp: true, addresses: [{ address: '10.213.0.1', prefix: 24, source: 'kernel' }], ports: [{ name: VNET, vm: 'fxn-vm1' }], vms: ['fxn-vm1'] });
    const table = await runKvmctl(['bridge', 'list'], labLinks());
    expect(table.out).toMatch(/^NAME\s+STATE\s+MTU\s+STP\s+ADDRESSES\s+PORTS\s+VMS$/m);
    expect(table.out).toMatch(new RegExp(`^virbr1\\s+UP\\s+1500\\s+yes\\s+10\\.213\\.0\\.1/24\\s+${VNET} \\(fxn-vm1\\)\\s+fxn-vm1$`, 'm'));
  });

  it('without libvirt it lists the bridges and says why VM names are missing', async () => {
    const r = await runKvmctl(['bridge', 'list'], nsLinks());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^fxbr\s+UP\s+1500\s+no\s+10\.77\.0\.1\/24, fe80::\S+\s+fxcl\s+-$/m);
    expect(r.err).toBe("warning: VM names are not shown: cannot reach libvirt at qemu:///system (Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory)\n");
  });

  it('makes two calls for 1 bridge and for 200', async () => {
    for (const count of [1, 200]) {
      const links = Array.from({ length: count }, (_, i) => [
        { ifindex: 2 * i + 10, ifname: `br${i}`, flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0 } }, addr_info: [] },
        { ifindex: 2 * i + 11, ifname: `vnet${i}`, master: `br${i}`, flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: { info_kind: 'tun' }, addr_info: [] },
      ]).flat();
      const stats = Array.from({ length: count }, (_, i) => `Domain: 'vm${i}'\n  net.count=1\n  net.0.name=vnet${i}\n`).join('\n');
      const runner = new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: JSON.stringify(links) }).stub(domstats, { stdout: stats });
      const r = await runKvmctl(['bridge', 'list', '-o', 'json'], runner);
      const out = parseOutput<Array<{ vms: string[] }>>(['bridge', 'list'], r.out);
      expect(out).toHaveLength(count);
      expect(out[count - 1]?.vms).toEqual([`vm${count - 1}`]);
      expect(r.runner.calls).toHaveLength(2);
    }
  });
});
