/** The argv of iptables calls. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { Iptables, iptablesCheckCommand, iptablesDeleteCommand, iptablesInsertCommand, savedRule } from '../../../src/net/iptables.js';
import { rulesTagged } from '../../../src/net/rule-owner.js';
import { natRulesFor } from '../../../src/net/kvmctl-rules.js';
import { parseIptablesSave } from '../../../src/net/iptables-save.js';
import { recorded } from '../../support/harness.js';

const saved = parseIptablesSave(recorded('net/ns-iptables-save-nat-forwards.txt'));

describe('commands', () => {
  it('always pass -w so a held xtables lock waits; -C is a read', () => {
    const [rule] = natRulesFor('br0', '10.20.0.0/24');
    for (const cmd of [iptablesInsertCommand(rule!), iptablesCheckCommand(rule!), iptablesDeleteCommand(rule!)]) expect(cmd.args.slice(0, 2)).toEqual(['-w', '30']);
    expect(iptablesCheckCommand(rule!).mutates).toBe(false);
    expect(iptablesInsertCommand(rule!).mutates).toBe(true);
    expect(iptablesDeleteCommand(rule!).args.slice(2, 5)).toEqual(['-t', 'nat', '-D']);
  });

  it('a saved rule deletes with the words iptables-save printed (quotes removed)', () => {
    const [masq] = rulesTagged(saved, 'kvmctl:nat:fxbr').filter((r) => r.target === 'MASQUERADE');
    expect(iptablesDeleteCommand(savedRule(masq!)).args).toEqual([
      '-w', '30', '-t', 'nat', '-D', 'POSTROUTING', '-s', '10.77.0.0/24', '!', '-d', '10.77.0.0/24', '-o', 'fxup', '-m', 'comment', '--comment', 'kvmctl:nat:fxbr', '-j', 'MASQUERADE',
    ]);
  });
});

describe('the rule count of each backend', () => {
  // iptables-save.txt was recorded from Debian's iptables-save, which is the nf_tables backend (its first line says so).
  const nftSave = readFileSync(new URL('../../fixtures/recorded/iptables-save.txt', import.meta.url), 'utf8');

  it('counts the -A lines each backend prints and leaves out one that fails or is not installed', async () => {
    const both = new FakeRunner().stub(['iptables-legacy-save'], { stdout: nftSave }).stub(['iptables-nft-save'], { stdout: nftSave });
    expect(await new Iptables(both).backendRuleCounts()).toEqual([
      { program: 'iptables-legacy-save', rules: 26 },
      { program: 'iptables-nft-save', rules: 26 },
    ]);
    both.verify();

    const failing = new FakeRunner().stub(['iptables-legacy-save'], { exitCode: 1 }).stub(['iptables-nft-save'], { stdout: nftSave });
    expect(await new Iptables(failing).backendRuleCounts()).toEqual([{ program: 'iptables-nft-save', rules: 26 }]);
    failing.verify();

    const missing = new FakeRunner()
      .stub(['iptables-legacy-save'], () => {
        throw new Error('spawn iptables-legacy-save ENOENT');
      })
      .stub(['iptables-nft-save'], { stdout: nftSave });
    expect(await new Iptables(missing).backendRuleCounts()).toEqual([{ program: 'iptables-nft-save', rules: 26 }]);
    expect(missing.argvs()).toHaveLength(2);
  });
});
