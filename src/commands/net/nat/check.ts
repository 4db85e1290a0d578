import type { Context } from '../../../context.js';
import { RefusedError } from '../../../errors.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { natRulesFor, type IptablesRule } from '../../../net/kvmctl-rules.js';
import { currentNatStateStore, type NatBridgeState } from '../../../net/nat-state.js';
import { verb } from '../../../verb.js';


interface RuleCheck {
  bridge: string;
  table: IptablesRule['table'];
  chain: string;
  rule: string;
  present: boolean;
}

/** The command that puts back what is missing for one bridge: enable adds exactly the missing rules. */
export function restoreCommand(uri: string, bridge: string, s: NatBridgeState): string {
  return kvmctlCommand(uri, 'net', 'nat', 'enable', '--bridge', bridge, '--subnet', s.subnet, ...(s.out !== undefined ? ['--out', s.out] : []));
}

/**
 * Checks that every rule kvmctl recorded for this namespace's NAT bridges is
 * in the firewall (iptables -C, three per bridge) and that ip_forward is still
 * on where kvmctl turned it on: after a firewall reload the rules are gone
 * although nothing says so. Exit 0 when all is there, else 5 with what is
 * missing and the command that restores it.
 */
export interface RecordedNatCheck {
  bridges: Array<[string, NatBridgeState]>;
  checks: RuleCheck[];
  ipForwardOff: boolean;
  /** The bridges with a missing rule, and the command that restores each. */
  broken: string[];
  restore: string[];
  location: string;
}

/** Each recorded rule through iptables -C (three per NAT bridge; nothing runs without a record). */
export async function checkRecordedNat(ctx: Context): Promise<RecordedNatCheck> {
  const store = await currentNatStateStore(ctx.stateDir);
  const state = await store.load();
  const bridges = Object.entries(state.bridges);
  const checks: RuleCheck[] = [];
  for (const [bridge, s] of bridges) {
    const rules = natRulesFor(bridge, s.subnet, s.out);
    const present = await Promise.all(rules.map(async (r) => ctx.iptables.has(r)));
    rules.forEach((r, i) => checks.push({ bridge, table: r.table, chain: r.chain, rule: r.spec.join(' '), present: present[i] === true }));
  }
  const ipForwardOff = state.ipForwardChanged && (await ctx.sysctl.ipForward()) === false;
  const broken = [...new Set(checks.filter((c) => !c.present).map((c) => c.bridge))];
  const restore = (broken.length > 0 ? broken : ipForwardOff ? bridges.slice(0, 1).map(([b]) => b) : []).map((b) => restoreCommand(ctx.uri, b, state.bridges[b] as NatBridgeState));
  return { bridges, checks, ipForwardOff, broken, restore, location: store.location };
}

/** "2 of 3 kvmctl NAT rules are missing (br0); ip_forward is off ...", or undefined when all is there. */
export function natProblems(r: RecordedNatCheck): string | undefined {
  const missing = r.checks.filter((c) => !c.present).length;
  const what = [missing > 0 && `${missing} of ${r.checks.length} kvmctl NAT rules are missing (${r.broken.join(', ')})`, r.ipForwardOff && 'net.ipv4.ip_forward is off although kvmctl NAT needs it'].filter(Boolean);
  return what.length > 0 ? what.join('; ') : undefined;
}

/**
 * Checks that every rule kvmctl recorded for this namespace's NAT bridges is
 * in the firewall and that ip_forward is still on where kvmctl turned it on:
 * after a firewall reload the rules are gone although nothing says so. Exit 0
 * when all is there, else 5 with what is missing and the command that
 * restores it.
 */
export async function runNatCheck(ctx: Context): Promise<void> {
  const r = await checkRecordedNat(ctx);
  const problems = natProblems(r);
  if (ctx.out.json) {
    ctx.out.printJson({ ok: problems === undefined, rules: r.checks, ipForwardOff: r.ipForwardOff, restore: r.restore });
  } else if (r.bridges.length === 0) {
    ctx.out.info(`kvmctl has no NAT recorded in this network namespace (${r.location})`);
  } else {
    ctx.out.list(
      [
        { header: 'BRIDGE', value: (c: RuleCheck) => c.bridge },
        { header: 'TABLE', value: (c: RuleCheck) => c.table },
        { header: 'CHAIN', value: (c: RuleCheck) => c.chain },
        { header: 'STATUS', value: (c: RuleCheck) => (c.present ? 'ok' : 'missing') },
        { header: 'RULE', value: (c: RuleCheck) => c.rule },
      ],
      r.checks,
    );
  }
  if (problems !== undefined) throw new RefusedError(`net nat check: ${problems}`, `restore exactly what is missing with: ${r.restore.join(' && ')}`);
  if (!ctx.out.json && r.bridges.length > 0) ctx.out.info(`all ${r.checks.length} kvmctl NAT rules are present`);
}

export const natCheckVerb = verb('check', 'check that every rule kvmctl recorded for NAT in this namespace is in the firewall (and ip_forward on): exit 0, else 5 with what is missing', runNatCheck, {
  examples: ['kvmctl net nat check', 'kvmctl net nat check -o json'],
  notes:
    "\nA firewall reload (iptables-restore, firewalld, a reboot without saved rules) removes kvmctl's rules silently.\nRunning the printed `kvmctl net nat enable` again adds back exactly the missing rules.\n",
});
