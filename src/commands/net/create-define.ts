/** net create of a new network: define, start and autostart it in one transaction, then report. */
import type { Context } from '../../context.js';
import { runPlan, when, type Plan } from '../../exec/plan.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { parseNetworkXml, type NetworkSpec } from '../../libvirt/network-xml.js';
import { blockOf, formatCidr, parseIpv4 } from '../../net/ipv4.js';
import { startNetwork } from './create-converge.js';
import type { Request } from './create-request.js';
import { networkResult } from './network-json.js';

/** Define, then start and autostart as asked: the steps net create runs (and whose XML --print-xml shows). */
export function netCreatePlan(ctx: Context, req: Request, xml: string): Plan {
  const name = req.name;
  return {
    label: `net create ${name}`,
    steps: [
      { what: `libvirt network ${name}`, do: { virsh: networkCalls.define(name, xml) }, undo: { virsh: networkCalls.undefine(name) } },
      ...when(req.start, {
        what: `running network ${name}`,
        // startNetwork says what a failed start means for this network; --dry-run prints the call as the runner would.
        do: { run: () => startNetwork(ctx, name), describe: `run: ${ctx.virsh.manual(networkCalls.start(name))}` },
        undo: { virsh: networkCalls.destroy(name) },
      }),
      ...when(req.autostart, { what: `autostart of network ${name}`, do: { virsh: networkCalls.autostart(name, true) } }),
    ],
  };
}

export async function define(ctx: Context, req: Request, spec: NetworkSpec, plan: Plan): Promise<void> {
  await runPlan(ctx, plan);
  // libvirt picks the bridge name when none was asked for; read it back to report it.
  const bridge = spec.bridge ?? (ctx.dryRun ? undefined : (await parseNetworkXml(await ctx.virsh.run(networkCalls.dumpxml(req.name)))).bridge);
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
  // A new network has no leases yet.
  ctx.out.done(
    `network ${req.name} created (${parts.join(', ')}); ${state}`,
    networkResult(true, { name: req.name, state: req.start ? 'active' : 'inactive', autostart: req.autostart, persistent: true, mode: req.mode, bridge, subnet, gateway: ip?.address, dhcpRange: ip?.dhcpRange, leaseCount: 0 }),
  );
}

