/** kvmctl net info over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { recorded, runKvmctl } from '../../../support/harness.js';
import { stubLoadDomains, stubLoadNetwork } from '../../../support/net.js';

describe('net info', () => {
  const iptablesSave = (runner: FakeRunner, stdout: string) => runner.stub(['iptables-save'], { stdout });

  it('shows definition, reservations with their VM, leases and port forwards into its subnet', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-nat', { leases: true }));
    // A forward into fxn-nat's subnet, and the recorded ones elsewhere (10.77.0.0/24), which are not listed.
    iptablesSave(runner, recorded('net/ns-iptables-save-nat-forwards.txt').replace(/10\.77\.0\.2\b/g, '10.213.0.20'));
    const r = await runKvmctl(['net', 'info', 'fxn-nat', '-o', 'json'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const info = parseOutput(['net', 'info'], r.out);
    expect(info).toMatchObject({
      name: 'fxn-nat',
      state: 'active',
      mode: 'nat',
      bridge: 'virbr1',
      subnet: '10.213.0.0/24',
      gateway: '10.213.0.1',
      domain: 'fx.local',
      dhcpHosts: [{ address: '10.213.0.20', prefix: 24, mac: '52:54:00:f0:00:02', source: 'static', hostname: 'fxn-vm2', network: 'fxn-nat', vm: 'fxn-vm2' }],
      leases: [{ network: 'fxn-nat', mac: '52:54:00:f0:00:01', address: '10.213.0.227', prefix: 24, source: 'lease', vm: 'fxn-vm1' }],
    });
    expect(info.portForwards).toEqual([{ id: 'tcp-2222', protocol: 'tcp', port: { first: 2222, last: 2222 }, toAddress: '10.213.0.20', toPort: { first: 22, last: 22 }, network: 'fxn-nat', vm: 'fxn-vm2', complete: true }]);
    expect(r.runner.calls).toHaveLength(4);
  });

  it('still reports the network when the firewall cannot be read', async () => {
    const runner = stubLoadDomains(stubLoadNetwork(new FakeRunner(), 'fxn-iso', { leases: true }));
    runner.stub(['iptables-save'], { exitCode: 1, stderr: 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' });
    const r = await runKvmctl(['net', 'info', 'fxn-iso'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^State\s+inactive$/m);
    expect(r.out).toMatch(/^DHCP range\s+off$/m);
    expect(r.out).toContain('unavailable: cannot read the firewall: iptables-save failed: iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)');
    expect(r.out).toContain('none (the network is not active)');
  });
});
