import type { Context } from '../../../context.js';
import { natRules, type NatRule } from '../../../net/rule-owner.js';
import { natColumns } from '../../../host/fact-columns.js';
import { verb } from '../../../verb.js';

/** Every NAT rule of the host with its owner (kvmctl, libvirt, docker, other): one iptables-save, as `kvmctl host` reads it. */
export async function runNatList(ctx: Context): Promise<void> {
  const rules = natRules(await ctx.iptables.load());
  ctx.out.list([...natColumns, { header: 'TAG', value: (r) => r.comment }], rules, rules.map(natRuleJson));
  if (!ctx.out.json && rules.length === 0) ctx.out.info('no NAT rules');
}

export const natListVerb = verb('list', 'every NAT rule on the host with its owner: kvmctl, libvirt, docker or other', runNatList, {
  examples: ['kvmctl net nat list', 'kvmctl net nat list -o json'],
});

/** A NAT rule: every key present (null where the rule does not match on it), the destination port as integers {first, last}. */
export function natRuleJson(r: NatRule) {
  const m = r.dport === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(r.dport);
  return {
    chain: r.chain,
    target: r.target,
    protocol: r.protocol?.toLowerCase() ?? null,
    source: r.source ?? null,
    destination: r.destination ?? null,
    dport: m ? { first: Number(m[1]), last: Number(m[2] ?? m[1]) } : null,
    inIface: r.inIface ?? null,
    outIface: r.outIface ?? null,
    to: r.to ?? null,
    owner: r.owner,
    comment: r.comment ?? null,
    spec: r.spec,
  };
}
