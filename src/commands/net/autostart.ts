/** net autostart: libvirt starts the network when it starts (or not, with --disable). */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { changedTo, load, netVerb, unchanged } from './network-state.js';
import { flag, type OptionsOf } from '../../verb.js';

const options = { disable: flag('--disable', 'turn autostart off') };
export type NetAutostartOptions = OptionsOf<typeof options>;

export async function runNetAutostart(ctx: Context, name: string, opts: NetAutostartOptions): Promise<void> {
  const enable = !opts.disable;
  const net = await load(ctx, name);
  if (net.autostart === enable) return unchanged(ctx, net, `autostart already ${enable ? 'on' : 'off'}`);
  if (!net.persistent) {
    throw new RefusedError(`network ${name} is transient: libvirt cannot start it at boot`, 'define it persistently (kvmctl net create) to use autostart');
  }
  await ctx.virsh.run(networkCalls.autostart(name, enable));
  ctx.out.done(`network ${name}: autostart ${enable ? 'on' : 'off'}`, changedTo(net, { autostart: enable }));
}

export const netAutostartVerb = netVerb('autostart', 'start the network when libvirt starts (or not, with --disable)', runNetAutostart, {
  options,
  examples: ['kvmctl net autostart lab', 'kvmctl net autostart lab --disable'],
});
