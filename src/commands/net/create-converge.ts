/**
 * net create of a name that exists: the same spec is brought to the asked
 * state ("unchanged" when it is), another spec is exit 4.
 */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { ConflictError, KvmctlError, RestatedError } from '../../errors.js';
import { networkCalls, type NetworkRecord } from '../../libvirt/network-commands.js';
import { buildNetworkXml, subnetOf, type NetworkDefinition, type NetworkSpec } from '../../libvirt/network-xml.js';
import { encodeXml } from '../../libvirt/xml-codec.js';
import { cidrFromTool } from '../../net/ipv4.js';
import { specFor, type Request } from './create-request.js';
import { asNow, networkResult } from './network-json.js';
import { summarize } from './list.js';

/** How an existing definition differs from the spec; empty when it is the same network. */
export function specDifferences(spec: NetworkSpec, def: NetworkDefinition): string[] {
  const diffs: string[] = [];
  const same = (what: string, asked: unknown, has: unknown) => {
    if ((asked ?? null) !== (has ?? null)) diffs.push(`${what}: asked ${String(asked ?? 'none')}, defined ${String(has ?? 'none')}`);
  };
  same('mode', spec.mode, def.forwardMode);
  // libvirt names the bridge when the spec does not.
  if (spec.bridge !== undefined || spec.mode === 'bridge') same('bridge', spec.bridge, def.bridge);
  same('forward device', spec.forwardDev, def.forwardDev);
  same('DNS domain', spec.domain, def.domain);
  const v4 = def.ips.filter((i) => i.family === 'ipv4');
  if (v4.length > 1) diffs.push(`it has ${v4.length} IPv4 addresses`);
  if (def.ips.some((i) => i.family === 'ipv6')) diffs.push('it has IPv6 addresses');
  const ip = v4[0];
  same('address', spec.ipv4 ? `${spec.ipv4.address}/${spec.ipv4.prefix}` : undefined, ip ? `${ip.address}/${ip.prefix}` : undefined);
  const asked = spec.ipv4?.dhcpRange;
  const has = ip?.dhcpRanges;
  same('DHCP range', asked ? `${asked.start}-${asked.end}` : undefined, has && has.length > 0 ? has.map((r) => `${r.start}-${r.end}`).join(', ') : undefined);
  return diffs;
}

/** The network exists: same spec -> bring it to the asked state ("unchanged" if it is); else exit 4. */
export async function converge(ctx: Context, req: Request, existing: NetworkRecord, printXml: boolean): Promise<void> {
  const ipv4 = existing.definition.ips.find((i) => i.family === 'ipv4');
  const subnet = req.subnet ?? (ipv4 ? cidrFromTool(subnetOf(ipv4)) : undefined);
  const spec = specFor(req, subnet);
  const diffs = specDifferences(spec, existing.definition);
  if (diffs.length > 0) {
    throw new ConflictError(
      `network ${JSON.stringify(req.name)} already exists with a different definition (${diffs.join('; ')})`,
      `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'net', 'delete', req.name)}`,
    );
  }
  if (printXml) return ctx.out.raw(encodeXml(buildNetworkXml(spec)));
  const steps: string[] = [];
  if (req.start && !existing.active) {
    await startNetwork(ctx, req.name);
    steps.push('started');
  }
  if (req.autostart && !existing.autostart && existing.persistent) {
    await ctx.virsh.run(networkCalls.autostart(req.name, true));
    steps.push('autostart on');
  }
  const now = asNow(existing, { active: existing.active || req.start, autostart: existing.autostart || (req.autostart && existing.persistent) });
  ctx.out.done(steps.length > 0 ? `network ${req.name} already defined; ${steps.join(', ')}` : `network ${req.name} unchanged`, networkResult(steps.length > 0, summarize(now, false)));
}

/** Starting is where libvirt finds a busy bridge name or subnet, or a dnsmasq that will not run. */
export async function startNetwork(ctx: Context, name: string): Promise<void> {
  try {
    await ctx.virsh.run(networkCalls.start(name));
  } catch (e) {
    if (!(e instanceof KvmctlError)) throw e;
    throw new RestatedError(
      e,
      `network ${JSON.stringify(name)} could not start: ${e.message.replace(/^network "[^"]*": /, '')}`,
      'check that its bridge name and subnet are free (kvmctl bridge list, ip route) and see libvirtd\'s log for dnsmasq errors',
    );
  }
}

