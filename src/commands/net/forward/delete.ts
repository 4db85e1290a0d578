import type { Context } from '../../../context.js';
import { NotFoundError } from '../../../errors.js';
import { FORWARD_TAG_KIND, kvmctlTag, rulesTagged } from '../../../net/rule-owner.js';
import { forwardId } from '../../../net/port-forward.js';
import { currentNetnsId } from '../../../net/netns-record.js';
import { parsePortRange, parseProtocol } from './target.js';

/** Removes every rule tagged for the forward (also what an interrupted add or delete left). */
export async function runForwardDelete(ctx: Context, port: string, opts: { proto?: string }): Promise<void> {
  const protocol = parseProtocol(opts.proto);
  const id = forwardId(protocol, parsePortRange(port, 'PORT'));
  const netnsId = await currentNetnsId();
  await ctx.withLock(`net forward netns-${netnsId}`, async () => {
    const tagged = rulesTagged(await ctx.iptables.load(), kvmctlTag(FORWARD_TAG_KIND, id));
    if (tagged.length === 0) {
      throw new NotFoundError(`no kvmctl port forward ${id} (${protocol} port ${port})`, 'list them with: kvmctl net forward list');
    }
    await ctx.transaction(`net forward delete ${id}`).run(async (tx) => {
      for (const rule of tagged) await ctx.iptables.deleteSaved(tx, rule);
    });
    ctx.out.done(`forward ${id} deleted (${tagged.length} rules removed)`, { id, changed: true, rulesRemoved: tagged.length });
  });
}
