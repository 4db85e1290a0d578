/** kvmctl net nat check, and enable again, after a firewall reload (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { formatCommand } from '../../../../../src/exec/command.js';
import { iptablesCheckCommand, iptablesInsertCommand } from '../../../../../src/net/iptables.js';
import { AFTER, RULES, argv, enableHost, ipForward, writeState, enable } from './hosts.js';
import { newStateDir, recorded, runKvmctl } from '../../../../support/harness.js';

describe('after a firewall reload (net nat check, enable again)', () => {
  const saved = { ipForwardChanged: true, natRulesBefore: [], bridges: { fxbr: { subnet: '10.77.0.0/24', out: 'fxup' } } };
  /** The recorded firewall with kvmctl's MASQUERADE rule gone, as after a reload of a saved set without it. */
  const withoutMasquerade = AFTER.split('\n').filter((l) => !(l.includes('kvmctl:nat:fxbr') && l.includes('MASQUERADE'))).join('\n');
  const checks = (runner: FakeRunner, missing: number[]) => {
    RULES.forEach((rule, i) => runner.stub(argv(iptablesCheckCommand(rule)), missing.includes(i) ? { exitCode: 1, stderr: recorded('net/err-iptables-C-missing.stderr') } : {}));
    return runner;
  };

  it('net nat check: every recorded rule present is exit 0', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, saved);
    const r = await runKvmctl(['net', 'nat', 'check'], checks(new FakeRunner(), []), { stateDir, ...ipForward('1') });
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('fxbr')).map((l) => l.split(/\s+/)[3])).toEqual(['ok', 'ok', 'ok']);
    expect(r.err).toContain('all 3 kvmctl NAT rules are present');
    r.runner.verify();
  });

  it('net nat check: a missing rule is exit 5, naming it, with the command that restores it', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, saved);
    const r = await runKvmctl(['net', 'nat', 'check', '-o', 'json'], checks(new FakeRunner(), [0]), { stateDir, ...ipForward('1') });
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
    await writeState(stateDir, saved);
    const r = await runKvmctl(['net', 'nat', 'check'], checks(new FakeRunner(), []), { stateDir, ...ipForward('0') });
    expect(r.code).toBe(5);
    expect(r.err).toContain('net.ipv4.ip_forward is off although kvmctl NAT needs it');
  });

  it('enable of the recorded setup adds back exactly the missing rule', async () => {
    const stateDir = newStateDir();
    await writeState(stateDir, saved);
    const runner = checks(enableHost(withoutMasquerade), [0]).stub((c) => c.program === 'iptables' && c.args.includes('-I'), {});
    const r = await runKvmctl(enable, runner, { stateDir, ...ipForward('1') });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual([formatCommand(iptablesInsertCommand(RULES[0]!))]);
    expect(r.out).toBe('NAT enabled on fxbr for 10.77.0.0/24 (out: fxup): 1 missing rule(s) restored\n');
    r.runner.verify();
  });

  it('without a record (or with other settings) a partial set is still exit 4', async () => {
    const r = await runKvmctl(enable, checks(enableHost(withoutMasquerade), [0]), ipForward('1'));
    expect(r.code).toBe(4);
    expect(r.changes).toEqual([]);
  });
});
