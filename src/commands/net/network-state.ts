/** What net start | stop | autostart | delete share: the network as libvirt has it, and the "unchanged" answer when it is already as asked. */
import type { Context } from '../../context.js';
import { loadNetwork, type NetworkRecord } from '../../libvirt/network-commands.js';
import { arg, names, verbOn } from '../../verb.js';

export const networkNameArg = arg('<name>', 'network name');

/** One or more networks (`kvmctl net start a b`), each in turn. */
export const networkNamesArg = names('<name...>', 'network name(s)', { kind: 'network' });

export async function load(ctx: Context, name: string): Promise<NetworkRecord> {
  return loadNetwork(ctx.runner, ctx.uri, name, { leases: false });
}

export function unchanged(ctx: Context, name: string, why: string, json: Record<string, unknown>): void {
  ctx.out.done(`network ${name} unchanged: ${why}`, { name, changed: false, ...json });
}


/** A verb on one network (`kvmctl net VERB NAME`). */
export const netVerb = verbOn([networkNameArg]);
