import { NEW_NAME_HELP } from '../../validate/names.js';
import type { Context } from '../../context.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { loadNetworks, type NetworkRecord } from '../../libvirt/network-commands.js';
import { buildNetworkXml } from '../../libvirt/network-xml.js';
import { encodeXml } from '../../libvirt/xml-codec.js';
import { findBridge, type Link } from '../../net/ip.js';
import { formatCidr, overlaps, type Cidr } from '../../net/ipv4.js';
import { freeSubnet, takenBlocks } from '../../net/taken-blocks.js';
import { converge } from './create-converge.js';
import { define, netCreatePlan } from './create-define.js';
import { planInputs } from '../../exec/plan.js';
import { checkRangeInSubnet, parseCreateRequest, specFor, netCreateOptions, type NetCreateOptions, type Request } from './create-request.js';
import { arg, verb } from '../../verb.js';

export type { NetCreateOptions } from './create-request.js';

export async function runNetCreate(ctx: Context, name: string, opts: NetCreateOptions): Promise<void> {
  const req = parseCreateRequest(name, opts, ctx.uri);
  await ctx.withLock(`net ${name}`, async () => {
    const networks = await loadNetworks(ctx.runner, ctx.uri, { leases: false });
    const existing = networks.find((n) => n.name === name);
    if (existing) return converge(ctx, req, existing, Boolean(opts.printXml));

    const [links, routes] = await Promise.all([ctx.ip.links(), ctx.ip.routes()]);
    checkBridgeAndDevice(req, networks, links, ctx.uri);
    let subnet = req.subnet;
    if (req.mode !== 'bridge') {
      const taken = takenBlocks(networks, links, routes);
      if (subnet) {
        const clash = taken.find((t) => overlaps(t.block, subnet as Cidr));
        if (clash) {
          const free = freeSubnet(taken);
          throw new ConflictError(
            `cannot create network ${JSON.stringify(name)}: subnet ${formatCidr(subnet)} overlaps ${clash.what}`,
            free ? `choose a free subnet, e.g. --subnet ${formatCidr(free)}` : 'choose a subnet that no network, address or route of this host uses',
          );
        }
      } else {
        subnet = freeSubnet(taken);
        if (!subnet) throw new ConflictError(`cannot create network ${JSON.stringify(name)}: every 192.168.100-254.0/24 is in use on this host`, 'give a free subnet with --subnet');
      }
      if (req.dhcp !== 'off' && req.dhcp !== 'default') checkRangeInSubnet(req.dhcp, subnet);
    }
    const spec = specFor(req, subnet);
    const xml = encodeXml(buildNetworkXml(spec));
    const plan = netCreatePlan(ctx, req, xml);
    if (opts.printXml) return ctx.out.raw(planInputs(plan).join(''));
    await define(ctx, req, spec, plan);
  });
}

function checkBridgeAndDevice(req: Request, networks: NetworkRecord[], links: Link[], uri: string): void {
  if (req.bridge !== undefined) {
    const link = links.find((l) => l.ifname === req.bridge);
    const user = networks.find((n) => n.definition.bridge === req.bridge);
    if (req.mode === 'bridge') {
      findBridge(links, req.bridge, uri);
    } else if (user) {
      throw new ConflictError(`bridge name ${req.bridge} is already used by libvirt network ${JSON.stringify(user.name)}`, 'choose another --bridge-name, or leave it out and libvirt picks a free virbrN');
    } else if (link) {
      throw new ConflictError(`an interface named ${req.bridge} already exists on this host`, 'choose another --bridge-name, or leave it out and libvirt picks a free virbrN');
    }
  }
  if (req.forwardDev !== undefined && !links.some((l) => l.ifname === req.forwardDev)) {
    throw new NotFoundError(`--forward-dev ${req.forwardDev}: no such interface on this host`, 'list interfaces with: ip link');
  }
}

export const netCreateVerb = verb('create', 'define, start and autostart a network; gateway = first host address, DHCP on the rest unless told otherwise', runNetCreate, {
  args: [arg('<name>', `network name: ${NEW_NAME_HELP}`)],
  options: netCreateOptions,
  examples: [
    'kvmctl net create lab --mode nat --subnet 10.10.0.0/24',
    'kvmctl net create lab --mode nat --subnet 10.10.0.0/24 --dhcp-range 10.10.0.100-10.10.0.200 --domain lab.local',
    'kvmctl net create backend --mode isolated --subnet 172.30.0.0/24 --no-dhcp',
    'kvmctl net create lan --mode bridge --bridge-name br0',
    'kvmctl net create lab --mode nat --subnet 10.10.0.0/24 --print-xml',
  ],
  notes: '\nRe-running with the same options changes nothing (exit 0); other options for an existing name are exit 4.\nA subnet that overlaps another network, a host address or a route is exit 4.\n',
});
