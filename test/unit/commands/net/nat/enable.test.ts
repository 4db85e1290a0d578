/** kvmctl net nat enable over a recorded namespace (hosts.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { iptablesCheckCommand } from '../../../../../src/net/iptables.js';
import { BEFORE, AFTER, RULES, argv, checkedHost, enableHost, ipForward, stateFile, DOCKER_RULES, enable } from './hosts.js';
import { recorded, runKvmctl } from '../../../../support/harness.js';

describe('net nat enable', () => {
  it('turns ip_forward on, adds the three tagged rules, and records what it changed', async () => {
    const runner = enableHost(BEFORE).stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {}).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 3);
    const r = await runKvmctl(enable, runner, ipForward('0'));
    expect(r).toMatchObject({ err: '', code: 0, out: 'NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 3 rules added, ip_forward turned on\n', changes: [
      'sysctl -w net.ipv4.ip_forward=1',
      "iptables -w 30 -t nat -I POSTROUTING -s 10.77.0.0/24 '!' -d 10.77.0.0/24 -o fxup -m comment --comment kvmctl:nat:fxbr -j MASQUERADE",
      'iptables -w 30 -t filter -I FORWARD -s 10.77.0.0/24 -i fxbr -o fxup -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -i fxup -d 10.77.0.0/24 -o fxbr -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    ] });
    expect(JSON.parse(readFileSync(await stateFile(r.stateDir), 'utf8'))).toEqual({
      ipForwardChanged: true,
      // Docker's rules lived without forwarding: they do not keep it on later.
      natRulesBefore: DOCKER_RULES,
      bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } },
    });
    r.runner.verify();
  });

  it('a second run adds nothing: the rules pass iptables -C, the gateway and ip_forward are there', async () => {
    const runner = enableHost(AFTER);
    for (const rule of RULES) runner.stub(argv(iptablesCheckCommand(rule)), {});
    const r = await runKvmctl([...enable, '-o', 'json'], runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ bridge: 'fxbr', subnet: '10.77.0.0/24', out: 'fxup', changed: false });
    expect(r.changes).toEqual([]);
    r.runner.verify();
  });

  it('gives the bridge its gateway when it has no address in the subnet', async () => {
    const links = recorded('net/ns-ip-j-d-addr-show.json').replace('"local":"10.77.0.1"', '"local":"10.99.0.1"');
    const runner = enableHost(BEFORE, links).stub(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'fxbr'], {}).stub((c) => c.program === 'iptables', {}, 3);
    const r = await runKvmctl(enable, runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 3 rules added, gateway 10.77.0.1/24 added to fxbr\n');
    expect(JSON.parse(readFileSync(await stateFile(r.stateDir), 'utf8'))).toEqual({ ipForwardChanged: false, natRulesBefore: [], bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup', addedAddress: '10.77.0.1/24' } } });
  });

  it('other settings for a bridge with kvmctl NAT are exit 4; nothing changes', async () => {
    const runner = enableHost(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-C'), { exitCode: 1, stderr: recorded('net/err-iptables-C-missing.stderr') }, 3);
    const r = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/25'], runner, ipForward('1'));
    expect(r).toMatchObject({ code: 4, err: 'kvmctl: error: NAT on fxbr is already enabled with other settings (subnet 10.77.0.0/24)\nhint: disable it first: kvmctl net nat disable --bridge fxbr\n', changes: [] });
  });

  it('a rule that fails midway takes back what this run added: exit 7, no record written', async () => {
    const runner = enableHost(BEFORE)
      .stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I') && c.args.includes('MASQUERADE'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I') && c.args.includes('-s'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), { exitCode: 4, stderr: 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument\n' })
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 2)
      .stub(['sysctl', '-w', 'net.ipv4.ip_forward=0'], {});
    const r = await runKvmctl(enable, runner, ipForward('0'));
    expect(r.code).toBe(7);
    expect(r.err).toContain('net nat enable --bridge fxbr failed: ');
    expect(r.err).toContain('everything it had done was undone');
    expect(r.changes.slice(4)).toEqual([
      'iptables -w 30 -t filter -D FORWARD -s 10.77.0.0/24 -i fxbr -o fxup -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
      "iptables -w 30 -t nat -D POSTROUTING -s 10.77.0.0/24 '!' -d 10.77.0.0/24 -o fxup -m comment --comment kvmctl:nat:fxbr -j MASQUERADE",
      'sysctl -w net.ipv4.ip_forward=0',
    ]);
    expect(existsSync(await stateFile(r.stateDir))).toBe(false);
    r.runner.verify();
  });

  it('rejects bad input before anything runs, and names what is missing', async () => {
    const bad = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'br/0', '--subnet', '10.77.0.0/24'], new FakeRunner());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`invalid bridge name "br/0": it contains '/'`);
    expect(bad.runner.calls).toEqual([]);
    const missing = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'br9', '--subnet', '10.77.0.0/24'], checkedHost());
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('bridge "br9" not found');
    const notBridge = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'fxup', '--subnet', '10.77.0.0/24'], checkedHost());
    expect(notBridge.code).toBe(2);
    const noOut = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/24', '--out', 'eth7'], checkedHost());
    expect(noOut.code).toBe(3);
    expect(noOut.err).toContain('--out eth7: no such interface');
    const overlap = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '198.51.100.0/24'], checkedHost());
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('subnet 198.51.100.0/24 overlaps address 198.51.100.1/24 of fxup');
    expect([...missing.changes, ...notBridge.changes, ...noOut.changes, ...overlap.changes]).toEqual([]);
  });

  it.each([
    ['a route via a gateway', '203.0.113.128/25', 'route 203.0.113.0/24 dev fxup'],
    ['a libvirt network', '10.213.0.0/24', 'libvirt network "fxn-nat" (10.213.0.0/24)'],
    ["libvirt's default network", '192.168.0.0/16', 'libvirt network "default" (192.168.122.0/24)'],
  ])('a subnet overlapping %s is exit 4 naming it, and nothing runs', async (_what, subnet, clash) => {
    const r = await runKvmctl(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', subnet], checkedHost(), ipForward('0'));
    expect(r.code, r.err).toBe(4);
    expect(r.err).toBe(`kvmctl: error: subnet ${subnet} overlaps ${clash}\nhint: choose the subnet of the bridge's VMs, which no other interface, route or libvirt network may use\n`);
    expect(r.changes).toEqual([]);
  });

  it("the bridge's own address and the kernel's route for it are no overlap", async () => {
    const runner = enableHost(BEFORE).stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {}).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 3);
    const r = await runKvmctl(enable, runner, ipForward('0'));
    expect(r.code, r.err).toBe(0);
  });
});
