import type { Context } from '../../../context.js';
import { natRules } from '../../../net/rule-owner.js';
import { natColumns } from '../../../host/fact-columns.js';
import { verb } from '../../../verb.js';

/** Every NAT rule of the host with its owner (kvmctl, libvirt, docker, other): one iptables-save, as `kvmctl host` reads it. */
export async function runNatList(ctx: Context): Promise<void> {
  const rules = natRules(await ctx.iptables.load());
  ctx.out.list([...natColumns, { header: 'TAG', value: (r) => r.comment }], rules);
  if (!ctx.out.json && rules.length === 0) ctx.out.info('no NAT rules');
}

export const natListVerb = verb({
  name: 'list',
  description: 'every NAT rule on the host with its owner: kvmctl, libvirt, docker or other',
  examples: ['kvmctl net nat list', 'kvmctl net nat list -o json'],
  run: (ctx) => runNatList(ctx),
});
