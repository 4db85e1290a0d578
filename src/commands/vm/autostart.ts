/** `vm autostart NAME [--disable]`: whether libvirt starts the VM when it starts. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { formatCommand } from '../../exec/command.js';
import { domainCommands, parseDominfo } from '../../libvirt/domain-commands.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './verb.js';

export interface AutostartOptions {
  disable?: boolean;
}

export function autostartCommand(app: App): Command {
  return vmVerb('autostart', 'start the VM when libvirt starts (or not, with --disable)', 'kvmctl vm autostart web1', 'kvmctl vm autostart web1 --disable')
    .option('--disable', 'do not start it with libvirt')
    .action(app.action(async (ctx, name: string, opts: AutostartOptions) => runVmAutostart(ctx, name, opts)));
}

export async function runVmAutostart(ctx: Context, name: string, opts: AutostartOptions): Promise<void> {
  checkVmName(name);
  const enable = opts.disable !== true;
  const info = parseDominfo(await runVirsh(ctx.runner, domainCommands.dominfo(ctx.uri, name), { kind: 'vm', name }));
  if (info.persistent === false) throw new RefusedError(`VM ${JSON.stringify(name)} is transient (not defined): libvirt cannot autostart it`, `define it persistently first: ${formatCommand(domainCommands.dumpxml(ctx.uri, name))} > vm.xml && ${formatCommand(domainCommands.define(ctx.uri, ''))} < vm.xml`);
  const word = enable ? 'enabled' : 'disabled';
  const json = { name, autostart: enable };
  if (info.autostart === enable) return ctx.out.done(`vm ${name} unchanged (autostart already ${word})`, { ...json, changed: false });
  await runVirsh(ctx.runner, domainCommands.autostart(ctx.uri, name, enable), { kind: 'vm', name });
  ctx.out.done(`vm ${name}: autostart ${word}`, { ...json, changed: true });
}
