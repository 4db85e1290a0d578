import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { natRules } from '../../../net/rule-owner.js';
import { natColumns } from '../../../host/fact-columns.js';

/** Every NAT rule of the host with its owner (kvmctl, libvirt, docker, other): one iptables-save, as `kvmctl host` reads it. */
export async function runNatList(ctx: Context): Promise<void> {
  const rules = natRules(await ctx.iptables.load());
  ctx.out.list([...natColumns, { header: 'TAG', value: (r) => r.comment }], rules);
  if (!ctx.out.json && rules.length === 0) ctx.out.info('no NAT rules');
}

export function natListVerb(app: App): Command {
  return new Command('list')
    .description('every NAT rule on the host with its owner: kvmctl, libvirt, docker or other')
    .addHelpText('after', examples('kvmctl net nat list', 'kvmctl net nat list -o json'))
    .action(app.action(async (ctx) => runNatList(ctx)));
}
