/** What net start | stop | autostart | delete share: the network as libvirt has it, and the "unchanged" answer when it is already as asked. */
import type { Context } from '../../context.js';
import { loadNetwork, type NetworkRecord } from '../../libvirt/network-commands.js';
import { arg, names, verbOn } from '../../verb.js';
import { summarize } from './list.js';
import { asNow, networkResult } from './network-json.js';

export const networkNameArg = arg('<name>', 'network name');

export async function load(ctx: Context, name: string): Promise<NetworkRecord> {
  return loadNetwork(ctx.runner, ctx.uri, name, { leases: false });
}

/** The network as it is (read without its leases), for the "unchanged" answer and the result of a change. */
export function unchanged(ctx: Context, net: NetworkRecord, why: string): void {
  ctx.out.done(`network ${net.name} unchanged: ${why}`, networkResult(false, summarize(net, false)));
}

/** `{changed: true, ...network}` after kvmctl made the network active or not, or turned its autostart on or off. */
export function changedTo(net: NetworkRecord, now: { active?: boolean; autostart?: boolean }) {
  return networkResult(true, summarize(asNow(net, now), false));
}


/** A verb on one network (`kvmctl net VERB NAME`). */
export const netVerb = verbOn([networkNameArg]);

/** A verb on one or more networks (`kvmctl net start a b`), each in turn. */
export const netsVerb = verbOn([names('<name...>', 'network name(s)', { kind: 'network' })]);
