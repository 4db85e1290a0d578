/** kvmctl net nat disable over a recorded namespace (hosts.ts). */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { BEFORE, AFTER, firewallHost, host, ipForward, stateFile, writeState, DOCKER_RULES } from './hosts.js';
import { newStateDir, runKvmctl } from '../../../../support/harness.js';

describe('net nat disable', () => {
  const deletes = [
    'iptables -w 30 -t filter -D FORWARD -d 10.77.0.0/24 -i fxup -o fxbr -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    'iptables -w 30 -t filter -D FORWARD -s 10.77.0.0/24 -i fxbr -o fxup -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    "iptables -w 30 -t nat -D POSTROUTING -s 10.77.0.0/24 '!' -d 10.77.0.0/24 -o fxup -m comment --comment kvmctl:nat:fxbr -j MASQUERADE",
  ];

  it('removes exactly its tagged rules; ip_forward stays on while rules added since (the forwards) need it', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, { ipForwardChanged: true, natRulesBefore: DOCKER_RULES, bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } });
    const runner = firewallHost(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3);
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, { stateDir, ...ipForward('1') });
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAT disabled on fxbr: 3 rules removed\n');
    expect(r.err).toBe('ip_forward left on: NAT rules added since it was turned on need it (kvmctl)\n');
    expect(r.changes).toEqual(deletes);
    expect(existsSync(await stateFile(stateDir))).toBe(false);
  });

  it('restores ip_forward and removes the gateway when kvmctl added them and nothing else needs them', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, { ipForwardChanged: true, bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup', addedAddress: '10.77.0.1/24' } } });
    // Only kvmctl's NAT rules: the recorded firewall without the forwards and Docker's rules.
    const onlyNat = AFTER.split('\n').filter((l) => !l.startsWith('-A') || l.includes('kvmctl:nat:fxbr')).join('\n');
    const runner = host(onlyNat)
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3)
      .stub(['ip', 'addr', 'del', '10.77.0.1/24', 'dev', 'fxbr'], {})
      .stub(['sysctl', '-w', 'net.ipv4.ip_forward=0'], {});
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr', '-o', 'json'], runner, { stateDir, ...ipForward('1') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ bridge: 'fxbr', changed: true, rulesRemoved: 3, addressRemoved: '10.77.0.1/24', ipForwardRestored: true });
    expect(r.changes).toEqual([...deletes, 'ip addr del 10.77.0.1/24 dev fxbr', 'sysctl -w net.ipv4.ip_forward=0']);
    r.runner.verify();
  });

  it('restores ip_forward when the only other NAT rules were there before kvmctl turned it on', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, { ipForwardChanged: true, natRulesBefore: DOCKER_RULES, bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } });
    const withoutForwards = AFTER.split('\n').filter((l) => !l.includes('kvmctl:fwd:')).join('\n');
    const runner = firewallHost(withoutForwards).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3).stub(['sysctl', '-w', 'net.ipv4.ip_forward=0'], {});
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, { stateDir, ...ipForward('1') });
    expect(r.code).toBe(0);
    expect(r.changes).toEqual([...deletes, 'sysctl -w net.ipv4.ip_forward=0']);
    expect(r.err).toBe('');
  });

  it('leaves ip_forward alone when kvmctl did not turn it on', async () => {
    const onlyNat = AFTER.split('\n').filter((l) => !l.startsWith('-A') || l.includes('kvmctl:nat:fxbr')).join('\n');
    const runner = firewallHost(onlyNat).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3);
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(r.changes).toEqual(deletes);
  });

  it('with nothing of kvmctl\'s on the bridge it is absent, as every delete: exit 3, nothing changed', async () => {
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr'], new FakeRunner().stub(['iptables-save'], { stdout: BEFORE }), ipForward('1'));
    expect(r).toMatchObject({
      code: 3,
      out: '',
      err: "kvmctl: error: NAT on fxbr was not enabled by kvmctl: nothing to remove\nhint: list kvmctl's NAT with: kvmctl net nat list; --if-exists makes this exit 0\n",
      changes: [],
    });
  });

  it('--if-exists: nothing of kvmctl\'s on the bridge is exit 0, changed false', async () => {
    const r = await runKvmctl(['net', 'nat', 'disable', '--bridge', 'fxbr', '--if-exists', '-o', 'json'], new FakeRunner().stub(['iptables-save'], { stdout: BEFORE }), ipForward('1'));
    expect(r).toMatchObject({ code: 0, changes: [] });
    expect(JSON.parse(r.out)).toEqual({ changed: false, bridge: 'fxbr' });
  });
});
