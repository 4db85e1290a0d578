import type { Context } from '../../../context.js';
import { runPlan } from '../../../exec/plan.js';
import { deleteSavedRuleStep } from '../../../net/iptables.js';
import { NotFoundError } from '../../../errors.js';
import { FORWARD_TAG_KIND, kvmctlTag, rulesTagged } from '../../../net/rule-owner.js';
import { forwardId } from '../../../net/port-forward.js';
import { currentNetnsId } from '../../../net/netns-record.js';
import { parseForwardRef, protoOption } from './target.js';
import { arg, verb, type OptionsOf } from '../../../verb.js';

const options = { proto: protoOption };
export type ForwardDeleteOptions = OptionsOf<typeof options>;

/** Removes every rule tagged for the forward (also what an interrupted add or delete left). */
export async function runForwardDelete(ctx: Context, port: string, opts: ForwardDeleteOptions): Promise<void> {
  const { protocol, ports } = parseForwardRef(port, opts.proto);
  const id = forwardId(protocol, ports);
  const netnsId = await currentNetnsId();
  await ctx.withLock(`net forward netns-${netnsId}`, async () => {
    const tagged = rulesTagged(await ctx.iptables.load(), kvmctlTag(FORWARD_TAG_KIND, id));
    if (tagged.length === 0) {
      throw new NotFoundError(`no kvmctl port forward ${id} (${protocol} port ${port})`, 'list them with: kvmctl net forward list');
    }
    await runPlan(ctx, { label: `net forward delete ${id}`, steps: tagged.map(deleteSavedRuleStep) });
    ctx.out.done(`forward ${id} deleted (${tagged.length} rules removed)`, { id, changed: true, rulesRemoved: tagged.length }, id);
  });
}

export const forwardDeleteVerb = verb({
  name: 'delete',
  description: 'remove a port forward (every rule tagged for it)',
  args: [arg('<port>', 'the host port or range it forwards, or its ID (tcp-2222: what net forward list and -o name print)')],
  options,
  examples: ['kvmctl net forward delete 2222', 'kvmctl net forward delete 5353 --proto udp', 'kvmctl net forward list -o name | xargs -r -d \'\\n\' -n1 kvmctl net forward delete'],
  run: (ctx, port, o) => runForwardDelete(ctx, port, o),
});
