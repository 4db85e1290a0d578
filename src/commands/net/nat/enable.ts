import type { Context } from '../../../context.js';
import { ConflictError, KvmctlError, NotFoundError, UsageError } from '../../../errors.js';
import { loadNetworks, type NetworkRecord } from '../../../libvirt/network-commands.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { runPlan, when } from '../../../exec/plan.js';
import { insertRuleStep } from '../../../net/iptables.js';
import { addressCidr, findBridge, ipAddrAddCommand, ipAddrDelCommand, type IpAddress, type Link } from '../../../net/ip.js';
import { kvmctlTag, NAT_TAG_KIND, natRuleKey, natRules, rulesTagged } from '../../../net/rule-owner.js';
import { natRulesFor, validateIptablesIfaceName } from '../../../net/kvmctl-rules.js';
import { contains, firstHost, formatCidr, formatIpv4, overlaps, parseIpv4, parseSubnet, type Cidr } from '../../../net/ipv4.js';
import { validateLinkName } from '../../../net/link-name.js';
import { currentNatStateStore } from '../../../net/nat-state.js';
import { takenBlocks } from '../../../net/taken-blocks.js';
import { IP_FORWARD_KEY, sysctlWriteCommand } from '../../../net/sysctl.js';
import { required, value, verb, type OptionsOf } from '../../../verb.js';

const options = {
  bridge: required('--bridge <bridge>', 'the bridge the VMs are on'),
  subnet: required('--subnet <cidr>', "the VMs' subnet; the bridge gets its first address as gateway if it has none in it"),
  out: value('--out <iface>', 'masquerade only traffic leaving through this interface (default: any)'),
};
export type NatEnableOptions = OptionsOf<typeof options>;

function ipv4In(link: Link, subnet: Cidr): IpAddress | undefined {
  return link.addresses.find((a) => a.family === 'inet' && contains(subnet, parseIpv4(a.local) ?? -1));
}

/**
 * Every libvirt network, active or only defined: a NAT subnet must not overlap
 * one. Without a reachable daemon there is none to protect, which is said.
 */
async function libvirtNetworks(ctx: Context): Promise<NetworkRecord[]> {
  try {
    return await loadNetworks(ctx.runner, ctx.uri, { leases: false });
  } catch (e) {
    if (!(e instanceof KvmctlError)) throw e;
    ctx.out.warn(`cannot check the subnets of libvirt networks: ${e.message}`);
    return [];
  }
}

/**
 * Gives the bridge its gateway address if it has none in the subnet, turns
 * ip_forward on (recording that kvmctl did), and adds the tagged MASQUERADE and
 * FORWARD rules. Whatever is already in place is left as is; running it twice
 * adds nothing the second time.
 */
export async function runNatEnable(ctx: Context, opts: NatEnableOptions): Promise<void> {
  const bridge = validateIptablesIfaceName('--bridge', validateLinkName('bridge', opts.bridge));
  const out = opts.out !== undefined ? validateIptablesIfaceName('--out', validateLinkName('interface', opts.out)) : undefined;
  const subnet = parseSubnet(opts.subnet);
  const subnetText = formatCidr(subnet);
  const store = await currentNatStateStore(ctx.stateDir);

  await ctx.withLock(`net nat netns-${store.netnsId}`, async () => {
    const [links, routes, networks] = await Promise.all([ctx.ip.links(), ctx.ip.routes(), libvirtNetworks(ctx)]);
    const br = findBridge(links, bridge, ctx.uri);
    if (out !== undefined && !links.some((l) => l.ifname === out)) {
      throw new NotFoundError(`--out ${out}: no such interface`, 'name the interface traffic leaves through (the one with the default route), or leave --out out');
    }
    if (out === bridge) throw new UsageError(`--out ${out} is the bridge itself`, 'name the uplink interface, or leave --out out');
    // The bridge's own addresses and the routes the kernel made for them are where the subnet belongs.
    const elsewhere = takenBlocks(networks, links.filter((l) => l.ifname !== bridge), routes.filter((r) => r.dev !== bridge)).find((t) => overlaps(t.block, subnet));
    if (elsewhere) {
      throw new ConflictError(
        `subnet ${subnetText} overlaps ${elsewhere.what}`,
        "choose the subnet of the bridge's VMs, which no other interface, route or libvirt network may use",
      );
    }

    const rules = natRulesFor(bridge, subnetText, out);
    const firewall = await ctx.iptables.load();
    const tagged = rulesTagged(firewall, kvmctlTag(NAT_TAG_KIND, bridge));
    const state = await store.load();
    let missing = rules;
    if (tagged.length > 0) {
      const present = await Promise.all(rules.map(async (r) => ctx.iptables.has(r)));
      // The setup kvmctl recorded, with some of its rules gone (a firewall reload): put back exactly those.
      const recorded = state.bridges[bridge];
      const sameAsRecorded = recorded?.subnet === subnetText && recorded.out === out && tagged.length === present.filter(Boolean).length;
      if (sameAsRecorded) missing = rules.filter((_, i) => !present[i]);
      else if (tagged.length !== rules.length || present.includes(false)) {
        const current = tagged.find((r) => r.source !== undefined)?.source;
        throw new ConflictError(
          `NAT on ${bridge} is already enabled with other settings (${current !== undefined ? `subnet ${current}` : 'other rules'})`,
          `disable it first: ${kvmctlCommand(ctx.uri, 'net', 'nat', 'disable', '--bridge', bridge)}`,
        );
      } else missing = [];
    }
    const gatewayAddress = ipv4In(br, subnet);
    const ipForwardOn = (await ctx.sysctl.ipForward()) === true;

    if (missing.length === 0 && gatewayAddress && ipForwardOn) {
      return ctx.out.done(`NAT on ${bridge} for ${subnetText} unchanged`, { bridge, subnet: subnetText, out: out ?? null, changed: false });
    }

    const gateway = { family: 'inet' as const, local: formatIpv4(firstHost(subnet)), prefixlen: subnet.prefix };
    // An address kvmctl added on an earlier run stays kvmctl's to remove.
    const addedAddress = gatewayAddress ? state.bridges[bridge]?.addedAddress : addressCidr(gateway);
    state.bridges[bridge] = { subnet: subnetText, ...(out !== undefined ? { out } : {}), ...(addedAddress !== undefined ? { addedAddress } : {}) };
    if (!ipForwardOn) {
      state.ipForwardChanged = true;
      state.natRulesBefore = natRules(firewall).map(natRuleKey);
    }
    await runPlan(ctx, {
      label: `net nat enable --bridge ${bridge}`,
      steps: [
        ...when(!gatewayAddress, { what: `address ${addressCidr(gateway)} on ${bridge}`, do: { command: ipAddrAddCommand(gateway, bridge) }, undo: { command: ipAddrDelCommand(gateway, bridge) } }),
        ...when(!ipForwardOn, { what: `${IP_FORWARD_KEY}=1`, do: { command: sysctlWriteCommand(IP_FORWARD_KEY, '1') }, undo: { command: sysctlWriteCommand(IP_FORWARD_KEY, '0') } }),
        ...missing.map(insertRuleStep),
        { what: `kvmctl's NAT record (${store.location})`, do: store.saveAction(state) },
      ],
    });

    const did = [
      missing.length > 0 && (tagged.length > 0 ? `${missing.length} missing rule(s) restored` : `${missing.length} rules added`),
      !gatewayAddress && `gateway ${addressCidr(gateway)} added to ${bridge}`,
      !ipForwardOn && 'ip_forward turned on',
    ].filter(Boolean);
    ctx.out.done(`NAT enabled on ${bridge} for ${subnetText} (out: ${out ?? 'any interface'}): ${did.join(', ')}`, {
      bridge,
      subnet: subnetText,
      out: out ?? null,
      changed: true,
      rulesAdded: missing.length,
      gateway: gatewayAddress ? addressCidr(gatewayAddress) : addressCidr(gateway),
      gatewayAdded: !gatewayAddress,
      ipForwardTurnedOn: !ipForwardOn,
    });
  });
}

export const natEnableVerb = verb('enable', 'give the bridge its gateway address if missing, turn ip_forward on, add MASQUERADE and FORWARD rules (each tagged kvmctl:nat:BRIDGE)', runNatEnable, {
  options,
  examples: ['kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24', 'kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24 --out eth0'],
  notes: '\nRunning it again adds nothing (or, after a firewall reload, exactly the rules that are missing); other settings for a bridge that has kvmctl NAT are exit 4.\n',
});
