/**
 * net nat enable | disable | list over a recorded test namespace: bridge fxbr
 * (10.77.0.1/24), uplink fxup, Docker-like rules; firewall before and after a
 * real `net nat enable` (fixtures/recorded/net).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { formatCommand, type Command } from '../../src/exec/command.js';
import { iptablesCheckCommand, iptablesInsertCommand } from '../../src/net/iptables.js';
import { natRulesFor } from '../../src/net/kvmctl-rules.js';
import { currentNetnsId } from '../../src/net/netns-record.js';
import { cli, newStateDir, rec, stubLoadNetworks } from './net-harness.js';

const BEFORE = rec('ns-iptables-save-before.txt');
const AFTER = rec('ns-iptables-save-nat-forwards.txt');
const RULES = natRulesFor('fxbr', '10.77.0.0/24', 'fxup');
const argv = (c: Command) => [c.program, ...c.args];

function host(firewall: string, links = rec('ns-ip-j-d-addr-show.json')): FakeRunner {
  return new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: links }).stub(['iptables-save'], { stdout: firewall });
}

/** What enable reads: the recorded namespace (links, routes, firewall) and the recorded lab's libvirt networks. */
function enableHost(firewall: string, links = rec('ns-ip-j-d-addr-show.json')): FakeRunner {
  const runner = host(firewall, links)
    .stub(['ip', '-j', 'route', 'show'], { stdout: rec('ns-ip-j-route-show.json') })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: rec('ns-ip-j-6-route-show.json') });
  return stubLoadNetworks(runner, { leases: false });
}

const ipForward = (v: '0' | '1') => ({ files: { '/proc/sys/net/ipv4/ip_forward': `${v}\n` } });

async function stateFile(stateDir: string): Promise<string> {
  return join(stateDir, 'net', `nat-netns-${await currentNetnsId()}.json`);
}

async function writeState(stateDir: string, state: unknown): Promise<void> {
  mkdirSync(join(stateDir, 'net'), { recursive: true });
  writeFileSync(await stateFile(stateDir), JSON.stringify(state));
}

const DOCKER_RULES = ['POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', 'DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'];
const enable = ['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/24', '--out', 'fxup'];

describe('net nat enable', () => {
  it('turns ip_forward on, adds the three tagged rules, and records what it changed', async () => {
    const runner = enableHost(BEFORE).stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {}).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 3);
    const r = await cli(enable, runner, ipForward('0'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 3 rules added, ip_forward turned on\n');
    expect(r.changes).toEqual([
      'sysctl -w net.ipv4.ip_forward=1',
      "iptables -w 30 -t nat -I POSTROUTING -s 10.77.0.0/24 '!' -d 10.77.0.0/24 -o fxup -m comment --comment kvmctl:nat:fxbr -j MASQUERADE",
      'iptables -w 30 -t filter -I FORWARD -s 10.77.0.0/24 -i fxbr -o fxup -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -i fxup -d 10.77.0.0/24 -o fxbr -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    ]);
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
    const r = await cli([...enable, '-o', 'json'], runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ bridge: 'fxbr', subnet: '10.77.0.0/24', out: 'fxup', changed: false });
    expect(r.changes).toEqual([]);
    r.runner.verify();
  });

  it('gives the bridge its gateway when it has no address in the subnet', async () => {
    const links = rec('ns-ip-j-d-addr-show.json').replace('"local":"10.77.0.1"', '"local":"10.99.0.1"');
    const runner = enableHost(BEFORE, links).stub(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'fxbr'], {}).stub((c) => c.program === 'iptables', {}, 3);
    const r = await cli(enable, runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 3 rules added, gateway 10.77.0.1/24 added to fxbr\n');
    expect(JSON.parse(readFileSync(await stateFile(r.stateDir), 'utf8'))).toEqual({ ipForwardChanged: false, natRulesBefore: [], bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup', addedAddress: '10.77.0.1/24' } } });
  });

  it('other settings for a bridge with kvmctl NAT are exit 4; nothing changes', async () => {
    const runner = enableHost(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-C'), { exitCode: 1, stderr: rec('err-iptables-C-missing.stderr') }, 3);
    const r = await cli(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/25'], runner, ipForward('1'));
    expect(r.code).toBe(4);
    expect(r.err).toBe('kvmctl: error: NAT on fxbr is already enabled with other settings (subnet 10.77.0.0/24)\nhint: disable it first: kvmctl net nat disable --bridge fxbr\n');
    expect(r.changes).toEqual([]);
  });

  it('a rule that fails midway takes back what this run added: exit 7, no record written', async () => {
    const runner = enableHost(BEFORE)
      .stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I') && c.args.includes('MASQUERADE'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I') && c.args.includes('-s'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), { exitCode: 4, stderr: 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument\n' })
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 2)
      .stub(['sysctl', '-w', 'net.ipv4.ip_forward=0'], {});
    const r = await cli(enable, runner, ipForward('0'));
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
    const bad = await cli(['net', 'nat', 'enable', '--bridge', 'br/0', '--subnet', '10.77.0.0/24'], new FakeRunner());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`invalid bridge name "br/0": it contains '/'`);
    expect(bad.runner.calls).toEqual([]);
    const missing = await cli(['net', 'nat', 'enable', '--bridge', 'br9', '--subnet', '10.77.0.0/24'], enableHost(BEFORE));
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('bridge "br9" not found');
    const notBridge = await cli(['net', 'nat', 'enable', '--bridge', 'fxup', '--subnet', '10.77.0.0/24'], enableHost(BEFORE));
    expect(notBridge.code).toBe(2);
    const noOut = await cli(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/24', '--out', 'eth7'], enableHost(BEFORE));
    expect(noOut.code).toBe(3);
    expect(noOut.err).toContain('--out eth7: no such interface');
    const overlap = await cli(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '198.51.100.0/24'], enableHost(BEFORE));
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('subnet 198.51.100.0/24 overlaps address 198.51.100.1/24 of fxup');
    expect([...missing.changes, ...notBridge.changes, ...noOut.changes, ...overlap.changes]).toEqual([]);
  });

  it.each([
    ['a route via a gateway', '203.0.113.128/25', 'route 203.0.113.0/24 dev fxup'],
    ['a libvirt network', '10.213.0.0/24', 'libvirt network "fxn-nat" (10.213.0.0/24)'],
    ["libvirt's default network", '192.168.0.0/16', 'libvirt network "default" (192.168.122.0/24)'],
  ])('a subnet overlapping %s is exit 4 naming it, and nothing runs', async (_what, subnet, clash) => {
    const r = await cli(['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', subnet], enableHost(BEFORE), ipForward('0'));
    expect(r.code, r.err).toBe(4);
    expect(r.err).toBe(`kvmctl: error: subnet ${subnet} overlaps ${clash}\nhint: choose the subnet of the bridge's VMs, which no other interface, route or libvirt network may use\n`);
    expect(r.changes).toEqual([]);
  });

  it("the bridge's own address and the kernel's route for it are no overlap", async () => {
    const runner = enableHost(BEFORE).stub(['sysctl', '-w', 'net.ipv4.ip_forward=1'], {}).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 3);
    const r = await cli(enable, runner, ipForward('0'));
    expect(r.code, r.err).toBe(0);
  });
});

describe('net nat disable', () => {
  const deletes = [
    'iptables -w 30 -t filter -D FORWARD -d 10.77.0.0/24 -i fxup -o fxbr -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    'iptables -w 30 -t filter -D FORWARD -s 10.77.0.0/24 -i fxbr -o fxup -m comment --comment kvmctl:nat:fxbr -j ACCEPT',
    "iptables -w 30 -t nat -D POSTROUTING -s 10.77.0.0/24 '!' -d 10.77.0.0/24 -o fxup -m comment --comment kvmctl:nat:fxbr -j MASQUERADE",
  ];

  it('removes exactly its tagged rules; ip_forward stays on while rules added since (the forwards) need it', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, { ipForwardChanged: true, natRulesBefore: DOCKER_RULES, bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } });
    const runner = host(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3);
    const r = await cli(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, { stateDir, ...ipForward('1') });
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
    const r = await cli(['net', 'nat', 'disable', '--bridge', 'fxbr', '-o', 'json'], runner, { stateDir, ...ipForward('1') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ bridge: 'fxbr', changed: true, rulesRemoved: 3, addressRemoved: '10.77.0.1/24', ipForwardRestored: true });
    expect(r.changes).toEqual([...deletes, 'ip addr del 10.77.0.1/24 dev fxbr', 'sysctl -w net.ipv4.ip_forward=0']);
    r.runner.verify();
  });

  it('restores ip_forward when the only other NAT rules were there before kvmctl turned it on', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, { ipForwardChanged: true, natRulesBefore: DOCKER_RULES, bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } });
    const withoutForwards = AFTER.split('\n').filter((l) => !l.includes('kvmctl:fwd:')).join('\n');
    const runner = host(withoutForwards).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3).stub(['sysctl', '-w', 'net.ipv4.ip_forward=0'], {});
    const r = await cli(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, { stateDir, ...ipForward('1') });
    expect(r.code).toBe(0);
    expect(r.changes).toEqual([...deletes, 'sysctl -w net.ipv4.ip_forward=0']);
    expect(r.err).toBe('');
  });

  it('leaves ip_forward alone when kvmctl did not turn it on', async () => {
    const onlyNat = AFTER.split('\n').filter((l) => !l.startsWith('-A') || l.includes('kvmctl:nat:fxbr')).join('\n');
    const runner = host(onlyNat).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 3);
    const r = await cli(['net', 'nat', 'disable', '--bridge', 'fxbr'], runner, ipForward('1'));
    expect(r.code).toBe(0);
    expect(r.changes).toEqual(deletes);
  });

  it('with nothing of kvmctl\'s on the bridge there is nothing to do (exit 0)', async () => {
    const r = await cli(['net', 'nat', 'disable', '--bridge', 'fxbr'], new FakeRunner().stub(['iptables-save'], { stdout: BEFORE }), ipForward('1'));
    expect(r).toMatchObject({ code: 0, out: 'NAT on fxbr was not enabled by kvmctl: nothing to remove\n', changes: [] });
  });
});

describe('net nat list', () => {
  it('lists every NAT rule with its owner, as kvmctl host does', async () => {
    const r = await cli(['net', 'nat', 'list', '-o', 'json'], new FakeRunner().stub(['iptables-save'], { stdout: AFTER }));
    expect(r.code).toBe(0);
    const rules = JSON.parse(r.out) as Array<{ chain: string; target: string; owner: string; comment?: string; source?: string; to?: string }>;
    expect(rules.map((x) => `${x.chain} ${x.target} ${x.owner} ${x.comment ?? '-'}`)).toEqual([
      'PREROUTING DNAT kvmctl kvmctl:fwd:udp-5300-5310',
      'PREROUTING DNAT kvmctl kvmctl:fwd:tcp-2222',
      'OUTPUT DNAT kvmctl kvmctl:fwd:udp-5300-5310',
      'OUTPUT DNAT kvmctl kvmctl:fwd:tcp-2222',
      'POSTROUTING MASQUERADE kvmctl kvmctl:nat:fxbr',
      'POSTROUTING MASQUERADE other -',
      'DOCKER DNAT docker -',
    ]);
    const table = await cli(['net', 'nat', 'list'], new FakeRunner().stub(['iptables-save'], { stdout: AFTER }));
    expect(table.out).toMatch(/^CHAIN\s+TARGET\s+PROTO\s+SOURCE\s+DESTINATION\s+OUT\s+TO\s+OWNER\s+TAG$/m);
    expect(table.out).toMatch(/^DOCKER\s+DNAT\s+tcp\s+-\s+:8080\s+-\s+172\.17\.0\.2:80\s+docker\s+-$/m);
    expect(formatCommand({ program: 'iptables-save', args: [] })).toBe(table.argvs[0]);
  });
});

describe('after a firewall reload (net nat check, enable again)', () => {
  const recorded = { ipForwardChanged: true, natRulesBefore: [], bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } };
  /** The recorded firewall with kvmctl's MASQUERADE rule gone, as after a reload of a saved set without it. */
  const withoutMasquerade = AFTER.split('\n').filter((l) => !(l.includes('kvmctl:nat:fxbr') && l.includes('MASQUERADE'))).join('\n');
  const checks = (runner: FakeRunner, missing: number[]) => {
    RULES.forEach((rule, i) => runner.stub(argv(iptablesCheckCommand(rule)), missing.includes(i) ? { exitCode: 1, stderr: rec('err-iptables-C-missing.stderr') } : {}));
    return runner;
  };

  it('net nat check: every recorded rule present is exit 0', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, recorded);
    const r = await cli(['net', 'nat', 'check'], checks(new FakeRunner(), []), { stateDir, ...ipForward('1') });
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('fxbr')).map((l) => l.split(/\s+/)[3])).toEqual(['ok', 'ok', 'ok']);
    expect(r.err).toContain('all 3 kvmctl NAT rules are present');
    r.runner.verify();
  });

  it('net nat check: a missing rule is exit 5, naming it, with the command that restores it', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, recorded);
    const r = await cli(['net', 'nat', 'check', '-o', 'json'], checks(new FakeRunner(), [0]), { stateDir, ...ipForward('1') });
    expect(r.code).toBe(5);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(false);
    expect(report.rules.filter((x: { present: boolean }) => !x.present)).toEqual([{ bridge: 'fxbr', table: 'nat', chain: 'POSTROUTING', rule: RULES[0]!.spec.join(' '), present: false }]);
    // Under -o json the error is one JSON object on stderr.
    expect(JSON.parse(r.err)).toEqual({
      error: {
        code: 'refused',
        exit: 5,
        message: 'net nat check: 1 of 3 kvmctl NAT rules are missing (fxbr)',
        hint: 'restore exactly what is missing with: kvmctl net nat enable --bridge fxbr --subnet 10.77.0.0/24 --out fxup',
        object: null,
      },
    });
    expect(r.changes).toEqual([]);
  });

  it('net nat check: ip_forward turned off again is reported too', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, recorded);
    const r = await cli(['net', 'nat', 'check'], checks(new FakeRunner(), []), { stateDir, ...ipForward('0') });
    expect(r.code).toBe(5);
    expect(r.err).toContain('net.ipv4.ip_forward is off although kvmctl NAT needs it');
  });

  it('enable of the recorded setup adds back exactly the missing rule', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, recorded);
    const runner = checks(enableHost(withoutMasquerade), [0]).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {});
    const r = await cli(enable, runner, { stateDir, ...ipForward('1') });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual([formatCommand(iptablesInsertCommand(RULES[0]!))]);
    expect(r.out).toBe('NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 1 missing rule(s) restored\n');
    r.runner.verify();
  });

  it('without a record (or with other settings) a partial set is still exit 4', async () => {
    const r = await cli(enable, checks(enableHost(withoutMasquerade), [0]), ipForward('1'));
    expect(r.code).toBe(4);
    expect(r.changes).toEqual([]);
  });
});
