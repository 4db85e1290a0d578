/** `vm xml NAME [--inactive]`: the VM's libvirt XML, live or as defined. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './verb.js';

export interface XmlOptions {
  inactive?: boolean;
}

export function xmlCommand(app: App): Command {
  return vmVerb('xml', "print the VM's libvirt XML", 'kvmctl vm xml web1', 'kvmctl vm xml web1 --inactive')
    .option('--inactive', 'the persistent definition, not the running one')
    .action(app.action(async (ctx, name: string, opts: XmlOptions) => runVmXml(ctx, name, opts)));
}

export async function runVmXml(ctx: Context, name: string, opts: XmlOptions): Promise<void> {
  checkVmName(name);
  const xml = await runVirsh(ctx.runner, domainCommands.dumpxml(ctx.uri, name, opts.inactive === true), { kind: 'vm', name });
  if (ctx.out.json) return ctx.out.printJson({ name, xml });
  ctx.out.raw(xml);
}
