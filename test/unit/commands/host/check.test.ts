/** `host check`'s verdicts from a host's facts (hostChecks is pure: facts in, checks out). */
import { describe, expect, it } from 'vitest';
import { assessVirtualization } from '../../../../src/host/virtualization.js';
import { hostChecks } from '../../../../src/commands/host/check.js';
import type { HostFacts } from '../../../../src/host/facts.js';

describe('hostChecks', () => {
  const base = (): HostFacts => ({
    uri: 'qemu:///system',
    access: { kind: 'local' },
    virtualization: assessVirtualization({ cpuinfo: 'flags : vmx', devKvmPresent: true, devKvmAccessible: true }),
    libvirt: { uri: 'qemu:///system', reachable: true, domainTypes: ['qemu', 'kvm'], daemonVersion: '9.0.0' },
    capacity: { running: { vms: 0, vcpus: 0, memoryBytes: 0 }, defined: { vms: 0, vcpus: 0, memoryBytes: 0 }, incoming: [], cpuOvercommit: {}, memoryOvercommit: {} },
    bridges: [],
    nat: { ipForward: true, forwardPolicy: 'ACCEPT', rules: [] },
    networks: [{ name: 'default', active: true, autostart: true, persistent: true, bridge: 'virbr0', mode: 'nat', subnet: '192.168.122.0/24' }],
    pools: ['default'],
    tools: [{ name: 'virsh', path: '/usr/bin/virsh' }],
    domains: [],
  });
  const status = (f: HostFacts) => Object.fromEntries(hostChecks(f).map((c) => [c.name, c.status]));

  it('a healthy host has only ok checks', () => {
    expect(new Set(Object.values(status(base())))).toEqual(new Set(['ok']));
  });

  it('flags each documented problem with a fix line', () => {
    const f = base();
    f.libvirt.reachable = false;
    f.nat = { ipForward: false, forwardPolicy: 'DROP', bridgeNfCallIptables: true, rules: [] };
    f.tools = [{ name: 'virsh' }, { name: 'iptables' }];
    const checks = hostChecks(f);
    const s = Object.fromEntries(checks.map((c) => [c.name, c.status]));
    expect(s).toMatchObject({ libvirt: 'fail', 'ip-forward': 'fail', 'forward-policy': 'fail', 'br-netfilter': 'warn', 'tool:virsh': 'fail', 'tool:iptables': 'warn' });
    for (const c of checks.filter((c) => c.status !== 'ok')) expect(c.fix).toBeTruthy();
  });

  it("missing kvmctl NAT rules fail with the command that restores them; rules in both iptables backends warn", () => {
    const nat = {
      bridges: [['br0', { subnet: '10.20.0.0/24' }]] as Array<[string, { subnet: string }]>,
      checks: [
        { bridge: 'br0', table: 'nat' as const, chain: 'POSTROUTING', rule: 'x', present: false },
        { bridge: 'br0', table: 'filter' as const, chain: 'FORWARD', rule: 'y', present: true },
      ],
      ipForwardOff: false,
      broken: ['br0'],
      restore: ['kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24'],
      location: '/x',
    };
    const checks = hostChecks(base(), { nat, backends: [{ program: 'iptables-legacy-save', rules: 4 }, { program: 'iptables-nft-save', rules: 9 }] });
    expect(checks.find((c) => c.name === 'kvmctl-nat')).toEqual({ name: 'kvmctl-nat', status: 'fail', message: '1 of 2 kvmctl NAT rules are missing (br0)', fix: 'kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24' });
    expect(checks.find((c) => c.name === 'iptables-backends')).toMatchObject({ status: 'warn', message: 'both iptables-legacy (4 rules) and iptables-nft (9 rules) hold rules: the kernel applies both, but iptables shows and changes only one of them' });
    const fine = hostChecks(base(), { nat: { ...nat, checks: nat.checks.map((c) => ({ ...c, present: true })), broken: [], restore: [] }, backends: [{ program: 'iptables-legacy-save', rules: 0 }, { program: 'iptables-nft-save', rules: 9 }] });
    expect(fine.find((c) => c.name === 'kvmctl-nat')?.status).toBe('ok');
    expect(fine.find((c) => c.name === 'iptables-backends')).toBeUndefined();
  });

  it("a fix that is a kvmctl command names the checked host's URI, so that pasting it acts there", () => {
    const uri = 'qemu+ssh://root@kvm1/system';
    const f = base();
    f.uri = uri;
    f.libvirt.uri = uri;
    f.pools = [];
    f.networks = [{ ...f.networks[0]!, active: false }];
    const fixes = Object.fromEntries(hostChecks(f).map((c) => [c.name, c.fix]));
    expect(fixes['storage-pool']).toBe(`kvmctl -c ${uri} pool create default --type dir --path /var/lib/libvirt/images`);
    expect(fixes['default-network']).toBe(`kvmctl -c ${uri} net start default && kvmctl -c ${uri} net autostart default`);
    f.networks = [];
    expect(hostChecks(f).find((c) => c.name === 'default-network')?.fix).toBe(`kvmctl -c ${uri} net create default --mode nat --subnet 192.168.122.0/24`);
    // On the default URI the command stays as short as it was.
    expect(hostChecks({ ...base(), pools: [] }).find((c) => c.name === 'storage-pool')?.fix).toBe('kvmctl pool create default --type dir --path /var/lib/libvirt/images');
  });

  it('default network missing is a warning, inactive a failure; no pool is a warning', () => {
    const f = base();
    f.networks = [];
    f.pools = [];
    expect(status(f)).toMatchObject({ 'default-network': 'warn', 'storage-pool': 'warn' });
    f.networks = [{ ...base().networks[0]!, active: false }];
    expect(status(f)['default-network']).toBe('fail');
  });
});
