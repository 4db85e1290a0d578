import type { Context } from '../../../context.js';
import { runPlan, when } from '../../../exec/plan.js';
import { deleteSavedRuleStep } from '../../../net/iptables.js';
import { addressCidr, ipAddrAddCommand, ipAddrDelCommand, type IpAddress } from '../../../net/ip.js';
import { kvmctlTag, NAT_TAG_KIND, natRuleKey, natRules, rulesTagged } from '../../../net/rule-owner.js';
import { formatIpv4, parseAddressCidr } from '../../../net/ipv4.js';
import { validateLinkName } from '../../../net/link-name.js';
import { currentNatStateStore } from '../../../net/nat-state.js';
import { IP_FORWARD_KEY, sysctlWriteCommand } from '../../../net/sysctl.js';
import { required, verb, type OptionsOf } from '../../../verb.js';
import { NotFoundError } from '../../../errors.js';
import { kvmctlCommand } from '../../../exec/command.js';

const options = { bridge: required('--bridge <bridge>', 'the bridge') };
export type NatDisableOptions = OptionsOf<typeof options>;

/**
 * Removes exactly the rules `enable` tagged for this bridge, the gateway address
 * if kvmctl added it, and turns ip_forward off again only if kvmctl turned it on
 * and nothing else that needs it (another kvmctl NAT, a port forward, libvirt's
 * or Docker's NAT) remains. Everyone else's rules are left alone.
 */
export async function runNatDisable(ctx: Context, opts: NatDisableOptions): Promise<void> {
  const bridge = validateLinkName('bridge', opts.bridge);
  const store = await currentNatStateStore(ctx.stateDir);
  await ctx.withLock(`net nat netns-${store.netnsId}`, async () => {
    const firewall = await ctx.iptables.load();
    const tag = kvmctlTag(NAT_TAG_KIND, bridge);
    const tagged = rulesTagged(firewall, tag);
    const state = await store.load();
    const entry = state.bridges[bridge];
    if (tagged.length === 0 && !entry) {
      throw new NotFoundError(`NAT on ${bridge} was not enabled by kvmctl: nothing to remove`, `list kvmctl's NAT with: ${kvmctlCommand(ctx.uri, 'net', 'nat', 'list')}; --if-exists makes this exit 0`, {
        object: { kind: 'nat', name: bridge },
      });
    }

    // The address goes only if kvmctl added it and it is still there.
    const added = entry?.addedAddress !== undefined ? parseAddressCidr(entry.addedAddress) : undefined;
    let address: IpAddress | undefined = added && { family: 'inet', local: formatIpv4(added.address), prefixlen: added.prefix };
    if (address) {
      const br = (await ctx.ip.links()).find((l) => l.ifname === bridge);
      const wanted = address;
      if (!br?.addresses.some((a) => a.local === wanted.local && a.prefixlen === wanted.prefixlen)) address = undefined;
    }
    const others = Object.keys(state.bridges).filter((b) => b !== bridge);
    // NAT rules that came after kvmctl turned ip_forward on (libvirt's or Docker's networks, kvmctl's forwards) may rely on it.
    const before = new Set(state.natRulesBefore);
    const stillNeeded = natRules(firewall).filter((r) => r.comment !== tag && !before.has(natRuleKey(r)));
    const ipForwardOn = (await ctx.sysctl.ipForward()) === true;
    const wasChangedByKvmctl = state.ipForwardChanged;
    const restoreForward = wasChangedByKvmctl && ipForwardOn && others.length === 0 && stillNeeded.length === 0;

    delete state.bridges[bridge];
    // With kvmctl's last NAT gone, ip_forward is either restored or needed by someone else: no longer kvmctl's to restore.
    if (others.length === 0) {
      state.ipForwardChanged = false;
      state.natRulesBefore = [];
    }
    const gone = address;
    await runPlan(ctx, {
      label: `net nat disable --bridge ${bridge}`,
      steps: [
        ...tagged.map(deleteSavedRuleStep),
        ...(gone ? [{ what: `removed address ${addressCidr(gone)} of ${bridge}`, do: { command: ipAddrDelCommand(gone, bridge) }, undo: { command: ipAddrAddCommand(gone, bridge) } }] : []),
        ...when(restoreForward, { what: `${IP_FORWARD_KEY}=0`, do: { command: sysctlWriteCommand(IP_FORWARD_KEY, '0') }, undo: { command: sysctlWriteCommand(IP_FORWARD_KEY, '1') } }),
        { what: `kvmctl's NAT record (${store.location})`, do: store.saveAction(state) },
      ],
    });

    const did = [
      `${tagged.length} rules removed`,
      address && `address ${addressCidr(address)} removed from ${bridge}`,
      restoreForward && 'ip_forward turned off again',
    ].filter(Boolean);
    ctx.out.done(`NAT disabled on ${bridge}: ${did.join(', ')}`, {
      bridge,
      changed: true,
      rulesRemoved: tagged.length,
      addressRemoved: address ? addressCidr(address) : null,
      ipForwardRestored: restoreForward,
    });
    if (wasChangedByKvmctl && !restoreForward && ipForwardOn) {
      const why = others.length > 0 ? `kvmctl NAT on ${others.join(', ')} still needs it` : `NAT rules added since it was turned on need it (${[...new Set(stillNeeded.map((r) => r.owner))].join(', ')})`;
      ctx.out.info(`ip_forward left on: ${why}`);
    }
  });
}

export const natDisableVerb = verb('disable', 'remove exactly the rules enable added, its gateway address, and restore ip_forward if kvmctl changed it', runNatDisable, {
  options,
  ifExists: { kind: 'nat', name: (o) => o.bridge, keys: (o) => ({ bridge: o.bridge }) },
  examples: ['kvmctl net nat disable --bridge br0', 'kvmctl net nat disable --bridge br0 --if-exists'],
});
