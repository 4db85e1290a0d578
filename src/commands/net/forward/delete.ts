import type { Context } from '../../../context.js';
import { runPlan } from '../../../exec/plan.js';
import { deleteSavedRuleStep } from '../../../net/iptables.js';
import { NotFoundError, UsageError } from '../../../errors.js';
import { FORWARD_TAG_KIND, kvmctlTag, rulesTagged } from '../../../net/rule-owner.js';
import { forwardId, parseForwardId } from '../../../net/port-forward.js';
import { currentNetnsId } from '../../../net/netns-record.js';
import { parsePortRange, parseProtocol, protoOption } from './target.js';
import { arg, verb, type OptionsOf } from '../../../verb.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { refuseRemoteFirewallChange } from '../../../exec/host-runner.js';

const options = { proto: protoOption };
export type ForwardDeleteOptions = OptionsOf<typeof options>;

/** The forward's ID: PORT (or FIRST-LAST) with --proto, or the ID net forward list shows (tcp-8080), which names its protocol. */
export function forwardIdOf(port: string, opts: ForwardDeleteOptions): string {
  const listed = parseForwardId(port);
  if (!listed) return forwardId(parseProtocol(opts.proto), parsePortRange(port, 'PORT'));
  // --proto defaults to tcp: only an explicit udp can contradict an ID.
  if (opts.proto === 'udp' && listed.protocol !== 'udp') throw new UsageError(`forward ID ${port} is ${listed.protocol}, but --proto udp was given`, `leave --proto out: kvmctl net forward delete ${port}`);
  return forwardId(listed.protocol, listed.hostPorts);
}

/** Removes every rule tagged for the forward (also what an interrupted add or delete left). */
export async function runForwardDelete(ctx: Context, port: string, opts: ForwardDeleteOptions): Promise<void> {
  const id = forwardIdOf(port, opts);
  refuseRemoteFirewallChange(ctx, `net forward delete ${id}`, kvmctlCommand(undefined, 'net', 'forward', 'delete', id));
  const netnsId = await currentNetnsId();
  await ctx.withLock(`net forward netns-${netnsId}`, async () => {
    const tagged = rulesTagged(await ctx.iptables.load(), kvmctlTag(FORWARD_TAG_KIND, id));
    if (tagged.length === 0) {
      throw new NotFoundError(`no kvmctl port forward ${id}`, 'list them with: kvmctl net forward list', { object: { kind: 'forward', name: id } });
    }
    await runPlan(ctx, { label: `net forward delete ${id}`, steps: tagged.map(deleteSavedRuleStep) });
    ctx.out.done(`forward ${id} deleted (${tagged.length} rules removed)`, { id, changed: true, rulesRemoved: tagged.length }, id);
  });
}

export const forwardDeleteVerb = verb('delete', 'remove a port forward (every rule tagged for it)', runForwardDelete, {
  args: [arg('<port>', 'the host port or range it forwards, or its ID as net forward list shows it (tcp-2222)')],
  options,
  ifExists: { kind: 'forward', name: (port, o) => forwardIdOf(port, o), keys: (port, o) => ({ id: forwardIdOf(port, o) }) },
  examples: ['kvmctl net forward delete 2222', 'kvmctl net forward delete 5353 --proto udp', 'kvmctl net forward delete udp-5353', 'kvmctl net forward delete tcp-8000-8010 --if-exists'],
});
