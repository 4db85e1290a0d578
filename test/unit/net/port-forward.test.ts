/** kvmctl's rule sets read back from a recorded iptables-save. */
import { describe, expect, it } from 'vitest';
import { kvmctlTag, natRules, taggedIds } from '../../../src/net/rule-owner.js';
import { parseDport, parseForwardId, portRangesOverlap, savedForwards } from '../../../src/net/port-forward.js';
import { parseIptablesSave } from '../../../src/net/iptables-save.js';
import { recorded } from '../../support/harness.js';

const saved = parseIptablesSave(recorded('net/ns-iptables-save-nat-forwards.txt'));

describe('reading rules back', () => {
  it('finds kvmctl\'s rule sets by tag and leaves everyone else\'s', () => {
    expect(taggedIds(saved, 'nat')).toEqual(['fxbr']);
    expect(taggedIds(saved, 'fwd').sort()).toEqual(['tcp-2222', 'udp-5300-5310']);
    expect(kvmctlTag('nat', 'br0')).toBe('kvmctl:nat:br0');
    const owners = natRules(saved).map((r) => `${r.chain} ${r.target} ${r.owner}`);
    expect(owners).toEqual([
      'PREROUTING DNAT kvmctl',
      'PREROUTING DNAT kvmctl',
      'OUTPUT DNAT kvmctl',
      'OUTPUT DNAT kvmctl',
      'POSTROUTING MASQUERADE kvmctl',
      'POSTROUTING MASQUERADE other',
      'DOCKER DNAT docker',
    ]);
  });

  it('savedForwards gives each forward with its target and whether all its rules exist', () => {
    const forwards = savedForwards(saved).sort((a, b) => a.id.localeCompare(b.id));
    expect(forwards).toEqual([
      { id: 'tcp-2222', protocol: 'tcp', hostPorts: { start: 2222, end: 2222 }, toAddress: '10.77.0.2', toPorts: { start: 22, end: 22 }, ruleCount: 4 },
      { id: 'udp-5300-5310', protocol: 'udp', hostPorts: { start: 5300, end: 5310 }, toAddress: '10.77.0.3', toPorts: { start: 5300, end: 5310 }, ruleCount: 4 },
    ]);
    // Rules left by an interrupted delete still show up, incomplete.
    const partial = { ...saved, rules: saved.rules.filter((r) => !(r.comment === 'kvmctl:fwd:tcp-2222' && r.table === 'nat')) };
    expect(savedForwards(partial).find((f) => f.id === 'tcp-2222')).toMatchObject({ toAddress: '', ruleCount: 2 });
  });

  it('parses ids and port ranges', () => {
    expect(parseForwardId('udp-5300-5310')).toEqual({ protocol: 'udp', hostPorts: { start: 5300, end: 5310 } });
    expect(parseForwardId('sctp-1')).toBeUndefined();
    expect(parseDport('8000:8010')).toEqual({ start: 8000, end: 8010 });
    expect(parseDport(undefined)).toBeUndefined();
    expect(portRangesOverlap({ start: 1, end: 5 }, { start: 5, end: 9 })).toBe(true);
    expect(portRangesOverlap({ start: 1, end: 4 }, { start: 5, end: 9 })).toBe(false);
  });
});
