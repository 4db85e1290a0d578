/** `vm xml NAME [--inactive]`: the VM's libvirt XML, live or as defined. */
import type { Context } from '../../context.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { flag, type OptionsOf } from '../../verb.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './vm-name.js';

const options = { inactive: flag('--inactive', 'the persistent definition, not the running one') };
export type XmlOptions = OptionsOf<typeof options>;

export async function runVmXml(ctx: Context, name: string, opts: XmlOptions): Promise<void> {
  checkVmName(name);
  const xml = await ctx.virsh.run(domainCalls.dumpxml(name, opts.inactive === true));
  if (ctx.out.json) return ctx.out.printJson({ name, xml });
  ctx.out.raw(xml);
}

export const xmlCommand = vmVerb('xml', "print the VM's libvirt XML", runVmXml, {
  options,
  examples: ['kvmctl vm xml web1', 'kvmctl vm xml web1 --inactive'],
});
