/** What vm create reads from the host before it plans, and the pools and volumes a request names. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { KvmctlError } from '../../errors.js';
import { parseCapabilities, parseVcpuLimit, type Capabilities, type VcpuLimit } from '../../libvirt/capabilities.js';
import { domainCalls, firmwareValues } from '../../libvirt/domain-commands.js';
import { parseDomainXml, type DomainDefinition } from '../../libvirt/domain-xml.js';
import { loadDomains, type DomainRecord } from '../../libvirt/domains.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { parseNetList, type NetListEntry } from '../../libvirt/network-xml.js';
import { loadPools, volumeCalls, type PoolRecord } from '../../libvirt/storage.js';
import { parseVolumeXml, type VolumeDefinition } from '../../libvirt/volume-xml.js';
import { refuseUnsafeVolumes } from '../../storage/inventory.js';
import type { StorageFiles } from '../../storage/local-files.js';
import { formatVolumeRef, type VolumeRef } from '../../storage/volume-ref.js';
import { HOST_CAPACITY_READS, hostCapacityOf, type HostCapacity } from './capacity.js';
import type { CreateRequest } from './create-args.js';

export interface CreateState {
  /** The connection the state was read from: printed commands name it. */
  uri?: string;
  existing?: DomainDefinition;
  caps: Capabilities;
  host: HostCapacity;
  networks: NetListEntry[];
  firmware: Map<string, string[]>;
  /** The most vCPUs each domain type allows (virsh domcapabilities), for the host's arch and default machine: those vm create uses. */
  vcpuLimits: Map<string, VcpuLimit>;
  volumes: Map<string, VolumeDefinition>;
  pools: Map<string, PoolRecord>;
  /** Every defined VM: its disks may not be taken (unless shared on purpose), nor its MACs. */
  domains: DomainRecord[];
}

export function refKey(ref: VolumeRef): string {
  return formatVolumeRef(ref);
}

/** The pool new disks go to when none is named: the base image's pool, else "default". */
export function defaultPool(req: CreateRequest): string {
  return req.image?.pool ?? req.image?.base.pool ?? 'default';
}

/** The pool of the first disk that lives in a pool: where the seed ISO goes. */
export function seedPool(req: CreateRequest): string {
  if (req.image) return defaultPool(req);
  for (const d of req.disks) {
    if (d.kind === 'new') return d.pool ?? defaultPool(req);
    if (d.kind === 'volume') return d.ref.pool;
  }
  return defaultPool(req);
}

function referencedVolumes(req: CreateRequest): VolumeRef[] {
  const refs: VolumeRef[] = [];
  if (req.image) refs.push(req.image.base);
  for (const d of req.disks) if (d.kind === 'volume') refs.push(d.ref);
  if (req.cdrom?.kind === 'volume') refs.push(req.cdrom.ref);
  return refs;
}

/**
 * The base image and attached volumes: none may lead out of its pool through
 * a symlink or stand on a file of no pool (a raw disk with a qcow2 header).
 */
export async function checkUsedVolumes(ctx: Context, req: CreateRequest, state: CreateState, files: StorageFiles): Promise<void> {
  const refs = [...(req.image ? [req.image.base] : []), ...req.disks.flatMap((d) => (d.kind === 'volume' ? [d.ref] : []))];
  const used = refs.flatMap((ref) => {
    const v = state.volumes.get(refKey(ref));
    return v?.path === undefined ? [] : [{ ref, path: v.path, backingFile: v.backingStore?.path }];
  });
  await refuseUnsafeVolumes(ctx, used, state.pools, files, 'attach');
}

function targetPools(req: CreateRequest): string[] {
  const pools = new Set<string>();
  if (req.image) pools.add(defaultPool(req));
  for (const d of req.disks) if (d.kind === 'new') pools.add(d.pool ?? defaultPool(req));
  if (req.cloudInit) pools.add(seedPool(req));
  return [...pools];
}

/** The domain types whose limits (vCPUs, firmware) vm create reads: the one it picks is known only once the capabilities are. */
const DOMAIN_TYPES = ['qemu', 'kvm'] as const;

/**
 * The host as vm create needs it, in one keyed virsh batch (the VM if it
 * exists, capabilities, capacity, networks, firmware, the volumes named), the
 * pools involved, and every defined VM (whose disks and MACs a new VM must not
 * take).
 */
export async function readState(ctx: Context, req: CreateRequest): Promise<CreateState> {
  const refs = referencedVolumes(req);
  // The pools of the volumes used too: whether a volume's file leads out of its pool is checked against them.
  const poolNames = [...new Set([...targetPools(req), ...refs.map((r) => r.pool)])];
  const [batch, pools, domains] = await Promise.all([
    ctx.virsh.batchWithStderr({
      existing: domainCalls.dumpxml(req.name, true),
      caps: domainCalls.capabilities(),
      ...HOST_CAPACITY_READS,
      networks: networkCalls.list(),
      domcaps: DOMAIN_TYPES.map((t) => domainCalls.domcapabilities(t)),
      volumes: refs.map((r) => volumeCalls.dumpxml(r.pool, r.volume)),
    }),
    poolNames.length > 0 ? loadPools(ctx.runner, ctx.uri, poolNames) : Promise.resolve([]),
    loadDomains(ctx.runner, ctx.uri),
  ]);
  const { out } = batch;
  if (!out.caps.trim()) throw new KvmctlError(`could not read the hypervisor's capabilities from ${ctx.uri}: ${batch.stderr.trim() || 'virsh printed nothing'}`, `check the daemon with: ${kvmctlCommand(ctx.uri, 'host', 'check')}`);
  const firmware = new Map<string, string[]>();
  const vcpuLimits = new Map<string, VcpuLimit>();
  for (const [i, t] of DOMAIN_TYPES.entries()) {
    const xml = out.domcaps[i] ?? '';
    firmware.set(t, xml.trim() ? await firmwareValues(xml) : []);
    const limit = await parseVcpuLimit(xml);
    if (limit) vcpuLimits.set(t, limit);
  }
  const volumes = new Map<string, VolumeDefinition>();
  for (const [i, r] of refs.entries()) {
    const xml = out.volumes[i] ?? '';
    if (xml.trim()) volumes.set(refKey(r), await parseVolumeXml(xml));
  }
  return {
    uri: ctx.uri,
    existing: out.existing.trim() ? await parseDomainXml(out.existing) : undefined,
    caps: await parseCapabilities(out.caps),
    host: hostCapacityOf(out.nodeinfo, out.nodememstats),
    networks: parseNetList(out.networks),
    firmware,
    vcpuLimits,
    volumes,
    pools: new Map(pools.map((p) => [p.name, p])),
    domains,
  };
}
