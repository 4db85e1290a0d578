/** The rules kvmctl adds, against the firewall recorded after a real net nat enable and net forward add. */
import { describe, expect, it } from 'vitest';
import { formatCommand } from '../../../src/exec/command.js';
import { iptablesInsertCommand, savedRule } from '../../../src/net/iptables.js';
import { rulesTagged } from '../../../src/net/rule-owner.js';
import { natRulesFor, portForwardRulesFor, type IptablesRule } from '../../../src/net/kvmctl-rules.js';
import { RULES_PER_FORWARD } from '../../../src/net/port-forward.js';
import { parseIptablesSave } from '../../../src/net/iptables-save.js';
import { recorded } from '../../support/harness.js';

const saved = parseIptablesSave(recorded('net/ns-iptables-save-nat-forwards.txt'));
const words = (r: IptablesRule) => `${r.table} ${r.chain} ${[...r.spec].sort().join(' ')}`;

describe('natRulesFor', () => {
  it('masquerades the subnet out, lets it out and its replies back, all tagged', () => {
    expect(natRulesFor('br0', '10.20.0.0/24').map((r) => formatCommand(iptablesInsertCommand(r)))).toEqual([
      "iptables -w 30 -t nat -I POSTROUTING -s 10.20.0.0/24 '!' -d 10.20.0.0/24 -m comment --comment kvmctl:nat:br0 -j MASQUERADE",
      'iptables -w 30 -t filter -I FORWARD -s 10.20.0.0/24 -i br0 -m comment --comment kvmctl:nat:br0 -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -d 10.20.0.0/24 -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:br0 -j ACCEPT',
    ]);
  });

  it('limits every rule to the uplink with --out', () => {
    expect(natRulesFor('br0', '10.20.0.0/24', 'eth0').map((r) => r.spec.join(' '))).toEqual([
      '-s 10.20.0.0/24 ! -d 10.20.0.0/24 -o eth0 -m comment --comment kvmctl:nat:br0 -j MASQUERADE',
      '-s 10.20.0.0/24 -i br0 -o eth0 -m comment --comment kvmctl:nat:br0 -j ACCEPT',
      '-i eth0 -d 10.20.0.0/24 -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:nat:br0 -j ACCEPT',
    ]);
  });

  it('are exactly the rules iptables holds after net nat enable (recorded)', () => {
    const built = natRulesFor('fxbr', '10.77.0.0/24', 'fxup').map(words).sort();
    const found = rulesTagged(saved, 'kvmctl:nat:fxbr').map(savedRule).map(words).sort();
    expect(found).toEqual(built);
  });
});

describe('portForwardRulesFor', () => {
  it('DNATs outside and local traffic to the host\'s own addresses, and accepts it and its replies in FORWARD', () => {
    const rules = portForwardRulesFor({ protocol: 'tcp', hostPorts: { start: 2222, end: 2222 }, toAddress: '10.20.0.5', toPorts: { start: 22, end: 22 } });
    expect(rules).toHaveLength(RULES_PER_FORWARD);
    expect(rules.map((r) => formatCommand(iptablesInsertCommand(r)))).toEqual([
      'iptables -w 30 -t nat -I PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.20.0.5:22',
      "iptables -w 30 -t nat -I OUTPUT '!' -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.20.0.5:22",
      'iptables -w 30 -t filter -I FORWARD -d 10.20.0.5/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -s 10.20.0.5/32 -p tcp -m tcp --sport 22 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
    ]);
  });

  it('a range keeps its ports: DNAT to the address alone', () => {
    const [pre] = portForwardRulesFor({ protocol: 'udp', hostPorts: { start: 5300, end: 5310 }, toAddress: '10.20.0.5', toPorts: { start: 5300, end: 5310 } });
    expect(pre?.spec.join(' ')).toBe('-p udp -m addrtype --dst-type LOCAL -m udp --dport 5300:5310 -m comment --comment kvmctl:fwd:udp-5300-5310 -j DNAT --to-destination 10.20.0.5');
  });

  it('are exactly the rules iptables holds after net forward add (recorded)', () => {
    const built = [
      ...portForwardRulesFor({ protocol: 'tcp', hostPorts: { start: 2222, end: 2222 }, toAddress: '10.77.0.2', toPorts: { start: 22, end: 22 } }),
      ...portForwardRulesFor({ protocol: 'udp', hostPorts: { start: 5300, end: 5310 }, toAddress: '10.77.0.3', toPorts: { start: 5300, end: 5310 } }),
    ];
    const found = [...rulesTagged(saved, 'kvmctl:fwd:tcp-2222'), ...rulesTagged(saved, 'kvmctl:fwd:udp-5300-5310')].map(savedRule);
    expect(found.map(words).sort()).toEqual(built.map(words).sort());
  });
});
