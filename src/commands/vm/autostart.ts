/** `vm autostart NAME [--disable]`: whether libvirt starts the VM when it starts. */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { domainCalls, parseDominfo } from '../../libvirt/domain-commands.js';
import { flag, type OptionsOf } from '../../verb.js';
import { checkVmName } from './domain-state.js';
import { vmsVerb } from './vm-name.js';

const options = { disable: flag('--disable', 'do not start it with libvirt') };
export type AutostartOptions = OptionsOf<typeof options>;

export async function runVmAutostart(ctx: Context, name: string, opts: AutostartOptions): Promise<void> {
  checkVmName(name);
  const enable = opts.disable !== true;
  const info = parseDominfo(await ctx.virsh.run(domainCalls.dominfo(name)));
  if (info.persistent === false) {
    throw new RefusedError(
      `VM ${JSON.stringify(name)} is transient (not defined): libvirt cannot autostart it`,
      `define it persistently first: ${ctx.virsh.manual(domainCalls.dumpxml(name))} > vm.xml && ${ctx.virsh.manual(domainCalls.define(name, ''))} < vm.xml`,
    );
  }
  const word = enable ? 'enabled' : 'disabled';
  const json = { name, autostart: enable };
  if (info.autostart === enable) return ctx.out.done(`vm ${name} unchanged (autostart already ${word})`, { changed: false, ...json });
  await ctx.virsh.run(domainCalls.autostart(name, enable));
  ctx.out.done(`vm ${name}: autostart ${word}`, { changed: !ctx.dryRun, ...json });
}

export const autostartCommand = vmsVerb('autostart', 'start the VM when libvirt starts (or not, with --disable)', runVmAutostart, {
  options,
  examples: ['kvmctl vm autostart web1', 'kvmctl vm autostart web1 --disable'],
});
