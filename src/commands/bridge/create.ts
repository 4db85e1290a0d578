import type { Context } from '../../context.js';
import { runPlan } from '../../exec/plan.js';
import { ConflictError, KvmctlError, UsageError } from '../../errors.js';
import { loadNetworks } from '../../libvirt/network-commands.js';
import { currentNetnsRecord } from '../../net/netns-record.js';
import { kvmctlCommand } from '../../exec/command.js';
import { addressCidr, ipAddrAddCommand, ipBridgeAddCommand, ipLinkDeleteCommand, ipLinkSetStateCommand, type IpAddress } from '../../net/ip.js';
import { blockOf, formatIpv4, lastAddress, overlaps, parseAddressCidr, parseIpv4 } from '../../net/ipv4.js';
import { validateNewBridgeName } from '../../validate/names.js';
import { arg, flag, value, verb, type OptionsOf } from '../../verb.js';

const options = {
  stp: flag('--stp', 'turn on the spanning tree protocol (for bridges with more than one uplink)'),
  address: value('--address <cidr>', 'give the bridge this address, e.g. 10.20.0.1/24'),
};
export type BridgeCreateOptions = OptionsOf<typeof options>;

/** --address: an IPv4 host address with its prefix, e.g. 10.20.0.1/24. */
export function parseBridgeAddress(text: string): IpAddress {
  const parsed = parseAddressCidr(text);
  if (!parsed) throw new UsageError(`invalid --address ${JSON.stringify(text)}: not ADDRESS/PREFIX`, 'e.g. --address 10.20.0.1/24');
  const block = blockOf(parsed.address, parsed.prefix);
  if (parsed.prefix < 31 && (parsed.address === block.network || parsed.address === lastAddress(block))) {
    throw new UsageError(`invalid --address ${text}: that is the network or broadcast address of its subnet`, `use a host address, e.g. --address ${formatIpv4(block.network + 1)}/${parsed.prefix}`);
  }
  return { family: 'inet', local: formatIpv4(parsed.address), prefixlen: parsed.prefix };
}

/** The bridges kvmctl created in a namespace: an existing bridge is "unchanged" only when it is one of them. */
export function createdBridgesRecord(ctx: Context) {
  return currentNetnsRecord<{ names: string[] }>(ctx.stateDir, 'bridges', () => ({ names: [] }), (v) => v.names.length === 0);
}

/** Whose a bridge kvmctl did not make is: a libvirt network's, Docker's, or someone else's. */
async function ownerOf(ctx: Context, name: string): Promise<string> {
  if (name === 'docker0' || /^br-[0-9a-f]{12}$/.test(name)) return 'Docker (by its name)';
  try {
    const net = (await loadNetworks(ctx.runner, ctx.uri, { leases: false })).find((n) => n.definition.bridge === name);
    if (net) return `libvirt network ${JSON.stringify(net.name)}`;
  } catch (e) {
    if (!(e instanceof KvmctlError)) throw e;
  }
  return 'another tool or by hand';
}

/** Creates the bridge, gives it the address, brings it up; an existing bridge as asked is "unchanged". */
export async function runBridgeCreate(ctx: Context, name: string, opts: BridgeCreateOptions): Promise<void> {
  // A bridge is made for VMs: its name must be one libvirt accepts.
  validateNewBridgeName(name);
  const stp = Boolean(opts.stp);
  const address = opts.address !== undefined ? parseBridgeAddress(opts.address) : undefined;
  const json = { name, stp, address: address ? addressCidr(address) : null };

  await ctx.withLock(`bridge ${name}`, async () => {
    const links = await ctx.ip.links();
    const existing = links.find((l) => l.ifname === name);
    if (existing) {
      if (existing.kind !== 'bridge') throw new ConflictError(`an interface named ${name} already exists and is not a bridge (${existing.kind ?? 'plain'})`, 'choose another name');
      const diffs = [
        ((existing.stpState ?? 0) !== 0) !== stp && `STP is ${stp ? 'off' : 'on'} on it`,
        address && !existing.addresses.some((a) => a.local === address.local && a.prefixlen === address.prefixlen) && `it has no address ${addressCidr(address)}`,
      ].filter(Boolean);
      if (diffs.length > 0) throw new ConflictError(`bridge ${name} already exists with other settings: ${diffs.join(', ')}`, `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'bridge', 'delete', name)}`);
      const record = await createdBridgesRecord(ctx);
      if ((await record.load()).names.includes(name)) return ctx.out.done(`bridge ${name} unchanged`, { ...json, changed: false, createdByKvmctl: true, owner: 'kvmctl' });
      const owner = await ownerOf(ctx, name);
      return ctx.out.done(`bridge ${name} already exists, made by ${owner}, not by kvmctl: left as it is`, { ...json, changed: false, createdByKvmctl: false, owner });
    }
    if (address) {
      const mine = blockOf(parseIpv4(address.local) as number, address.prefixlen);
      const clash = links.flatMap((l) => l.addresses.filter((a) => a.family === 'inet').map((a) => ({ l, a }))).find(({ a }) => overlaps(blockOf(parseIpv4(a.local) ?? 0, a.prefixlen), mine));
      if (clash) {
        throw new ConflictError(`--address ${addressCidr(address)} overlaps ${addressCidr(clash.a)} of ${clash.l.ifname}`, 'give the bridge a subnet no other interface uses');
      }
    }
    const record = await createdBridgesRecord(ctx);
    const created = await record.load();
    await runPlan(ctx, {
      label: `bridge create ${name}`,
      steps: [
        // Deleting the bridge also removes its address.
        { what: `bridge ${name}`, do: { command: ipBridgeAddCommand(name, stp) }, undo: { command: ipLinkDeleteCommand(name) } },
        ...(address ? [{ what: `address ${addressCidr(address)} on ${name}`, do: { command: ipAddrAddCommand(address, name) } }] : []),
        { what: `${name} up`, do: { command: ipLinkSetStateCommand(name, 'up') } },
        { what: `kvmctl's record of the bridges it created (${record.location})`, do: record.saveAction({ names: [...new Set([...created.names, name])] }) },
      ],
    });
    ctx.out.done(`bridge ${name} created (STP ${stp ? 'on' : 'off'}${address ? `, address ${addressCidr(address)}` : ''}) and up`, { ...json, changed: true, createdByKvmctl: true, owner: 'kvmctl' });
  });
}

export const bridgeCreateVerb = verb('create', 'create a bridge and bring it up', runBridgeCreate, {
  args: [arg('<name>', 'bridge name: letters, digits, - _ . (starting with a letter or digit; at most 15 characters)')],
  options,
  examples: ['kvmctl bridge create br0', 'kvmctl bridge create br1 --stp --address 10.20.0.1/24'],
});
