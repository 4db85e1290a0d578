import type { Context } from '../../context.js';
import { KvmctlError, RefusedError } from '../../errors.js';
import { loadDomains, type DomainRecord } from '../../libvirt/domains.js';
import { loadNetworks, type NetworkRecord } from '../../libvirt/network-commands.js';
import { defaultRouteDevices, findBridge, ipLinkDeleteCommand } from '../../net/ip.js';
import { validateLinkName } from '../../net/link-name.js';
import { running, vmsOnBridge } from '../net/vm-owners.js';
import { vmsByInterface } from './list.js';
import { movesByPort, movesRecord, recordedUplinks } from '../../net/bridge-moves.js';
import { createdBridgesRecord } from './create.js';
import { kvmctlCommand } from '../../exec/command.js';
import { runPlan, when } from '../../exec/plan.js';
import { flag, names, verb, type OptionsOf } from '../../verb.js';

const options = {
  /** Delete it although ports, stopped VMs or a libvirt network still use it. */
  force: flag('--force', 'delete it although ports, stopped VMs or a libvirt network still use it'),
};
export type BridgeDeleteOptions = OptionsOf<typeof options>;

/** What still uses a bridge: refusals that --force overrides. */
interface Users {
  ports: string[];
  vms: string[];
  networks: string[];
}

/**
 * Deletes a bridge. Never while a running VM is attached or while it carries
 * the default route; not while ports, defined VMs or libvirt networks use it,
 * unless --force.
 */
export async function runBridgeDelete(ctx: Context, name: string, opts: BridgeDeleteOptions): Promise<void> {
  validateLinkName('bridge', name);
  await ctx.withLock(`bridge ${name}`, async () => {
    const [links, routes, { owners }] = await Promise.all([ctx.ip.links(), ctx.ip.routes(), vmsByInterface(ctx)]);
    findBridge(links, name, ctx.uri);
    const ports = links.filter((l) => l.master === name);
    // A tap port is a running VM's NIC (libvirt names them vnetN).
    const taps = ports.filter((p) => p.kind === 'tun' || owners.has(p.ifname));
    if (taps.length > 0) {
      const names = taps.map((t) => (owners.get(t.ifname) ? `${owners.get(t.ifname)} (${t.ifname})` : t.ifname));
      throw new RefusedError(`bridge ${name} has running VM interfaces attached: ${names.join(', ')}`, 'shut those VMs down (or move their interfaces) first; --force does not override this');
    }
    if (defaultRouteDevices(routes).has(name)) {
      const uplink = recordedUplinks(movesByPort(await (await movesRecord(ctx.stateDir)).load()), name, links)[0] ?? ports[0]?.ifname ?? 'IFACE';
      throw new RefusedError(`bridge ${name} carries the default route: deleting it cuts this host off`, `move its addresses back first: ${kvmctlCommand(ctx.uri, 'bridge', 'detach', name, uplink, '--move-address')}`);
    }
    const users: Users = { ports: ports.map((p) => p.ifname), vms: [], networks: [] };
    let libvirt: [NetworkRecord[], DomainRecord[]] | undefined;
    try {
      libvirt = await Promise.all([loadNetworks(ctx.runner, ctx.uri, { leases: false }), loadDomains(ctx.runner, ctx.uri)]);
    } catch (e) {
      // Without libvirt there are no VMs or networks to protect beyond the ports checked above.
      if (!(e instanceof KvmctlError)) throw e;
      ctx.out.warn(`cannot check libvirt networks and VMs that use ${name}: ${e.message}`);
    }
    if (libvirt) {
      const [networks, domains] = libvirt;
      users.networks = networks.filter((n) => n.definition.bridge === name).map((n) => n.name);
      const vms = vmsOnBridge(domains, name, users.networks);
      users.vms = vms.map((d) => d.name);
      const busy = running(vms).map((d) => d.name);
      if (busy.length > 0) throw new RefusedError(`bridge ${name} is used by running VM(s): ${busy.join(', ')}`, 'shut them down first; --force does not override this');
    }
    const reasons = [
      users.ports.length > 0 && `ports ${users.ports.join(', ')}`,
      users.vms.length > 0 && `interfaces of VM(s) ${users.vms.join(', ')}`,
      users.networks.length > 0 && `libvirt network(s) ${users.networks.join(', ')}`,
    ].filter(Boolean);
    if (reasons.length > 0 && !opts.force) {
      throw new RefusedError(`bridge ${name} is in use: ${reasons.join('; ')}`, `detach them first, or delete it anyway with: ${kvmctlCommand(ctx.uri, 'bridge', 'delete', name, '--force')}`);
    }
    const record = await createdBridgesRecord(ctx);
    const created = await record.load();
    await runPlan(ctx, {
      label: `bridge delete ${name}`,
      steps: [
        { what: `bridge ${name} deleted`, do: { command: ipLinkDeleteCommand(name) } },
        ...when(created.names.includes(name), { what: `kvmctl's record of the bridges it created (${record.location})`, do: record.saveAction({ names: created.names.filter((n) => n !== name) }) }),
      ],
    });
    ctx.out.done(`bridge ${name} deleted${reasons.length > 0 ? ` (it was used by ${reasons.join('; ')})` : ''}`, { name, changed: true, ...users });
  });
}

export const bridgeDeleteVerb = verb('delete', 'delete a bridge; refused while ports, VM interfaces or a libvirt network use it (unless --force), and always while a running VM is attached', runBridgeDelete, {
  args: [names('<name...>', 'bridge name(s)', { kind: 'bridge', serial: "each delete rewrites kvmctl's record of the bridges it created; deletes at once would overwrite each other's" })],
  ifExists: { kind: 'bridge' },
  options,
  examples: ['kvmctl bridge delete br0', 'kvmctl bridge delete br0 --force'],
});
