/** net create of a new network: define, start and autostart it in one transaction, then report. */
import type { Context } from '../../context.js';
import { formatCommand } from '../../exec/command.js';
import { netAutostartCommand, netDefineCommand, netDestroyCommand, netDumpxmlCommand, netUndefineCommand } from '../../libvirt/network-commands.js';
import { parseNetworkXml, type NetworkSpec } from '../../libvirt/network-xml.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { blockOf, formatCidr, parseIpv4 } from '../../net/ipv4.js';
import { startNetwork } from './create-converge.js';
import type { Request } from './create-request.js';

export async function define(ctx: Context, req: Request, spec: NetworkSpec, xml: string): Promise<void> {
  const subject = { kind: 'network' as const, name: req.name };
  await ctx.transaction(`net create ${req.name}`).run(async (tx) => {
    await runVirsh(ctx.runner, netDefineCommand(ctx.uri, xml), subject);
    tx.onRollback({
      what: `libvirt network ${req.name}`,
      manual: formatCommand(netUndefineCommand(ctx.uri, req.name)),
      run: async () => void (await runVirsh(ctx.runner, netUndefineCommand(ctx.uri, req.name), subject)),
    });
    if (req.start) {
      await startNetwork(ctx, req.name);
      tx.onRollback({
        what: `running network ${req.name}`,
        manual: formatCommand(netDestroyCommand(ctx.uri, req.name)),
        run: async () => void (await runVirsh(ctx.runner, netDestroyCommand(ctx.uri, req.name), subject)),
      });
    }
    if (req.autostart) await runVirsh(ctx.runner, netAutostartCommand(ctx.uri, req.name, true), subject);
  });
  // libvirt picks the bridge name when none was asked for; read it back to report it.
  const bridge = spec.bridge ?? (ctx.dryRun ? undefined : (await parseNetworkXml(await runVirsh(ctx.runner, netDumpxmlCommand(ctx.uri, req.name), subject))).bridge);
  const ip = spec.ipv4;
  const subnet = ip ? formatCidr(blockOf(parseIpv4(ip.address) as number, ip.prefix)) : undefined;
  const parts = [
    req.mode,
    subnet && `subnet ${subnet}`,
    ip && `gateway ${ip.address}`,
    ip && (ip.dhcpRange ? `DHCP ${ip.dhcpRange.start}-${ip.dhcpRange.end}` : 'no DHCP'),
    bridge && `bridge ${bridge}`,
  ].filter(Boolean);
  const state = [req.start ? 'started' : 'not started', req.autostart ? 'autostart on' : 'autostart off'].join(', ');
  ctx.out.done(`network ${req.name} created (${parts.join(', ')}); ${state}`, {
    name: req.name,
    changed: true,
    mode: req.mode,
    subnet,
    gateway: ip?.address,
    dhcpRange: ip?.dhcpRange,
    bridge,
    active: req.start,
    autostart: req.autostart,
  });
}

