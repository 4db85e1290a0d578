/**
 * `vm create NAME`: what virt-install does, in one transaction.
 *
 * parse flags (exit 2) -> read the host in two virsh processes (the VM, the
 * capabilities, networks, volumes; the pools) -> plan the volumes and the
 * domain XML -> run: create volumes, upload the cloud-init seed, define,
 * autostart, start. A failure at any step removes what this command created,
 * in reverse order (exit 7); nothing that existed before is touched.
 *
 * The serial console is logged to NAME.serial.log beside the VM's first disk
 * (its pool directory), because that directory is the same path for the
 * libvirt daemon and for kvmctl on the host; /var/log/libvirt may not be (a
 * daemon in its own mount namespace, or a remote host). --log-dir overrides it.
 */
import { dirname, resolve } from 'node:path';
import type { Context } from '../../context.js';
import { formatCommand, kvmctlCommand, type Command } from '../../exec/command.js';
import { ConflictError, KvmctlError, NotFoundError, RefusedError, TimeoutError, UsageError } from '../../errors.js';
import { MissingToolError } from '../../exec/runner.js';
import { findOnPath } from '../../local-fs.js';
import { offeredDomainTypes, parseCapabilities, type Capabilities } from '../../libvirt/capabilities.js';
import { ensureImage } from './create-image.js';
import { buildMetaData, buildUserData, isSshPublicKey, SEED_ISO_TOOLS, sshKeysOf, writeSeedImage, type NoCloudFiles, type SeedIsoTool } from '../../libvirt/cloud-init.js';
import { domainArgs, domainCommands, firmwareValues } from '../../libvirt/domain-commands.js';
import {
  type KvmctlMetadata,
  buildDomainXml,
  diskPath,
  newUuid,
  parseDomainXml,
  randomMac,
  sourceKey,
  targetDevs,
  type DiskBus,
  type DiskSpec,
  type DomainDefinition,
  type DomainSpec,
  type NicSpec,
} from '../../libvirt/domain-xml.js';
import { netListArgs } from '../../libvirt/network-commands.js';
import { parseNetList, type NetListEntry } from '../../libvirt/network-xml.js';
import { isLocalUri, loadPools, thinAllocation, volumeCommands, volumeUsers, type PoolRecord, type VolumeFormat, type VolumeUser } from '../../libvirt/storage.js';
import { parseVolumeXml, type VolumeDefinition } from '../../libvirt/volume-xml.js';
import { runVirsh, runVirshBatch } from '../../libvirt/virsh.js';
import { encodeXml } from '../../libvirt/xml-codec.js';
import { formatVolumeRef, validateNewName, type VolumeRef } from '../../storage/volume-ref.js';
import { formatBytes } from '../../units/size.js';
import { readInputFile } from '../../storage/input-file.js';
import { checkDiskPath } from '../../storage/disk-path.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { checkPoolPath } from '../../storage/pool-path.js';
import { refuseUnsafeVolumes } from '../../storage/inventory.js';
import { loadDomains, type DomainRecord } from '../../libvirt/domains.js';
import { assessVirtualization, readVirtualizationInputs } from '../../host/virtualization.js';
import { HOST_CAPACITY_ARGS, hostCapacityOf, overcommitWarnings, type HostCapacity } from './capacity.js';
import { parseCreateFlags, type CloudInitRequest, type CreateFlags, type CreateRequest } from './create-args.js';
import { readyLine, waitForAddress, waitForReadyAddress } from './wait.js';
import { readVmState } from './domain-state.js';
import { isActive } from '../../libvirt/domains.js';

/** Pool types whose volumes are files (or LVs) at TARGET/NAME, a path known before the volume exists. */
const PATH_POOL_TYPES = ['dir', 'fs', 'netfs', 'logical'];
/** Pool types whose target is a directory on the host, where the serial log can live too. */
const DIR_POOL_TYPES = ['dir', 'fs', 'netfs'];
const CDROM_BUS: DiskBus = 'sata';
/**
 * The NoCloud seed is a read-only virtio disk, not a SATA CD-ROM: Debian's cloud
 * kernel (linux-image-cloud-amd64, that of its genericcloud images) has no AHCI
 * driver, so a SATA seed is invisible and cloud-init disables itself.
 * virtio-blk is in every cloud kernel and valid on both i440fx and q35.
 */
const SEED_BUS: DiskBus = 'virtio';
const FALLBACK_LOG_DIR = '/var/log/libvirt/qemu';

/** A volume this command creates. */
export interface PlannedVolume {
  pool: string;
  name: string;
  path: string;
  format: VolumeFormat;
  capacityBytes?: number;
  backing?: { path: string; format: VolumeFormat };
  /** Absent: libvirt decides (overlays; volumes outside pools of files). */
  allocationBytes?: number;
  purpose: 'disk' | 'seed';
}

interface CreateState {
  /** The connection the state was read from: printed commands name it. */
  uri?: string;
  existing?: DomainDefinition;
  caps: Capabilities;
  host: HostCapacity;
  networks: NetListEntry[];
  firmware: Map<string, string[]>;
  volumes: Map<string, VolumeDefinition>;
  pools: Map<string, PoolRecord>;
  /** Every defined VM, read when a disk names an existing file or volume (another VM may use it). */
  domains: DomainRecord[];
}

interface CreatePlan {
  spec: DomainSpec;
  volumes: PlannedVolume[];
  seed?: { volume: PlannedVolume; files: NoCloudFiles };
  warnings: string[];
}

export async function runVmCreate(ctx: Context, name: string, flags: CreateFlags, files: StorageFiles = realStorageFiles): Promise<void> {
  const parsed = parseCreateFlags(name, flags);
  await checkHostPaths(ctx, parsed, files);
  const uuid = newUuid();
  const seedFiles = parsed.cloudInit ? await readSeedInputs(ctx, parsed, parsed.cloudInit, uuid) : undefined;
  // A catalog name, URL or file is pulled or imported once every input has been checked.
  const source = parsed.image?.source;
  const req = source ? { ...parsed, image: { ...parsed.image!, base: await ensureImage(ctx, source, parsed.image!.base.pool, parsed.printXml || ctx.dryRun) } } : parsed;
  if (req.printXml) {
    const state = await readState(ctx, req);
    await checkUsedVolumes(ctx, req, state, files);
    const plan = planCreate(req, uuid, seedFiles, state, await localKvm(ctx));
    return printPlan(ctx, plan);
  }
  const isoTool = seedFiles ? await pickIsoTool(ctx) : undefined;
  await ctx.withLock(`vm ${name}`, async () => {
    const state = await readState(ctx, req);
    await checkUsedVolumes(ctx, req, state, files);
    const plan = planCreate(req, uuid, seedFiles, state, await localKvm(ctx));
    if (state.existing) return reportExisting(ctx, req, plan, state.existing);
    // The volumes are named after the VM: a VM name libvirt allows may still be no volume name.
    for (const v of [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])]) validateNewName('volume', v.name);
    checkVolumeNamesFree(plan, state);
    for (const w of plan.warnings) ctx.out.warn(w);
    await execute(ctx, req, plan, isoTool);
    await report(ctx, req, plan);
  });
}

// ---- inputs ------------------------------------------------------------------

/** Disks, the install ISO and the log directory: no system file, key, mounted device or system directory. */
async function checkHostPaths(ctx: Context, req: CreateRequest, files: StorageFiles): Promise<void> {
  const local = isLocalUri(ctx.uri);
  for (const d of req.disks) {
    if (d.kind !== 'path') continue;
    await checkDiskPath('--disk path', d.path, local, files, ctx.stateDir);
    if (local) d.hostPath = await files.resolve(d.path);
  }
  if (req.cdrom?.kind === 'path') await checkDiskPath('--cdrom', req.cdrom.path, local, files, ctx.stateDir, true);
  if (req.logDir !== undefined) await checkPoolPath('--log-dir', req.logDir.replace(/(.)\/+$/, '$1'), local, files, ctx.stateDir);
}

async function readSeedInputs(ctx: Context, req: CreateRequest, ci: CloudInitRequest, uuid: string): Promise<NoCloudFiles> {
  const warnings: string[] = [];
  const read = async (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    const input = await readInputFile(ctx.fs, flag, file, ctx.io.env);
    warnings.push(...input.warnings);
    return input.text;
  };
  const userData = await read('--cloud-init user-data=', ci.userDataFile);
  if (userData !== undefined && userData.trim() === '') throw new UsageError(`--cloud-init user-data=${ci.userDataFile}: the file is empty`, 'start it with #cloud-config');
  const metaData = await read('--cloud-init meta-data=', ci.metaDataFile);
  const networkConfig = await read('--cloud-init network-config=', ci.networkConfigFile);
  const keyText = await read('--ssh-key', ci.sshKeyFile);
  const sshKeys = keyText === undefined ? [] : sshKeysOf(keyText);
  if (keyText !== undefined) {
    const bad = sshKeys.find((k) => !isSshPublicKey(k));
    if (sshKeys.length === 0 || bad !== undefined) {
      throw new UsageError(
        `--ssh-key ${ci.sshKeyFile}: ${bad !== undefined ? `${JSON.stringify(bad.slice(0, 40))}… is not an OpenSSH public key` : 'no public key in the file'}`,
        'give the .pub file, e.g. --ssh-key ~/.ssh/id_ed25519.pub (never the private key)',
      );
    }
  }
  for (const w of warnings) ctx.out.warn(w);
  return {
    // instance-id: the VM's uuid, unique per VM, so a clone or a re-created VM counts as a new instance.
    metaData: metaData ?? buildMetaData(uuid, ci.hostname ?? (isHostname(req.name) ? req.name : undefined)),
    userData: userData ?? buildUserData({ hostname: ci.hostname, sshKeys }),
    networkConfig,
  };
}

function isHostname(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(name);
}

/** The first of the tools found on PATH (each writes or reads seed images); else the package to install. */
export async function pickSeedTool<T extends string>(ctx: Context, tools: readonly T[]): Promise<T> {
  for (const tool of tools) {
    if (await findOnPath(ctx.fs, tool, ctx.io.env.PATH)) return tool;
  }
  throw new MissingToolError('genisoimage');
}

function pickIsoTool(ctx: Context): Promise<SeedIsoTool> {
  return pickSeedTool(ctx, SEED_ISO_TOOLS);
}

/** Whether KVM works on this machine; undefined for a remote URI (only the remote capabilities count). */
async function localKvm(ctx: Context): Promise<{ usable: boolean; reason: string } | undefined> {
  if (!isLocalUri(ctx.uri)) return undefined;
  const v = assessVirtualization(await readVirtualizationInputs(ctx.fs));
  return { usable: v.kvmUsable, reason: v.reason };
}

// ---- reading the host ----------------------------------------------------------

function refKey(ref: VolumeRef): string {
  return formatVolumeRef(ref);
}

/** The pool new disks go to when none is named: the base image's pool, else "default". */
function defaultPool(req: CreateRequest): string {
  return req.image?.pool ?? req.image?.base.pool ?? 'default';
}

/** The pool of the first disk that lives in a pool: where the seed ISO goes. */
function seedPool(req: CreateRequest): string {
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
async function checkUsedVolumes(ctx: Context, req: CreateRequest, state: CreateState, files: StorageFiles): Promise<void> {
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

async function readState(ctx: Context, req: CreateRequest): Promise<CreateState> {
  const refs = referencedVolumes(req);
  const firmwareTypes = req.uefi ? ['qemu', 'kvm'] : [];
  const words = [
    domainArgs.dumpxml(req.name, true),
    ['capabilities'],
    ...HOST_CAPACITY_ARGS,
    netListArgs(),
    ...firmwareTypes.map((t) => domainArgs.domcapabilities(t)),
    ...refs.map((r) => ['vol-dumpxml', '--pool', r.pool, '--vol', r.volume]),
  ];
  // The pools of the volumes used too: whether a volume's file leads out of its pool is checked against them.
  const poolNames = [...new Set([...targetPools(req), ...refs.map((r) => r.pool)])];
  const existingDisks = req.disks.some((d) => d.kind !== 'new');
  const [batch, pools, domains] = await Promise.all([
    runVirshBatch(ctx.runner, ctx.uri, words),
    poolNames.length > 0 ? loadPools(ctx.runner, ctx.uri, poolNames) : Promise.resolve([]),
    existingDisks ? loadDomains(ctx.runner, ctx.uri) : Promise.resolve([]),
  ]);
  const out = batch.outputs;
  const [existingXml = '', capsXml = '', nodeinfo = '', memstats = '', netList = ''] = out;
  if (!capsXml.trim()) throw new KvmctlError(`could not read the hypervisor's capabilities from ${ctx.uri}: ${batch.stderr.trim() || 'virsh printed nothing'}`, 'check the daemon with: kvmctl host check');
  const firmware = new Map<string, string[]>();
  for (const [i, t] of firmwareTypes.entries()) {
    const xml = out[5 + i] ?? '';
    firmware.set(t, xml.trim() ? await firmwareValues(xml) : []);
  }
  const volumes = new Map<string, VolumeDefinition>();
  for (const [i, r] of refs.entries()) {
    const xml = out[5 + firmwareTypes.length + i] ?? '';
    if (xml.trim()) volumes.set(refKey(r), await parseVolumeXml(xml));
  }
  return {
    uri: ctx.uri,
    existing: existingXml.trim() ? await parseDomainXml(existingXml) : undefined,
    caps: await parseCapabilities(capsXml),
    host: hostCapacityOf(nodeinfo, memstats),
    networks: parseNetList(netList),
    firmware,
    volumes,
    pools: new Map(pools.map((p) => [p.name, p])),
    domains,
  };
}

// ---- planning ----------------------------------------------------------------

function volumeOf(state: CreateState, ref: VolumeRef, what: string): VolumeDefinition {
  const v = state.volumes.get(refKey(ref));
  if (!v || v.path === undefined) {
    throw new NotFoundError(
      `${what} ${refKey(ref)} not found (no such volume, or pool ${JSON.stringify(ref.pool)} is missing or inactive)`,
      `list the volumes with: ${kvmctlCommand(state.uri, 'volume', 'list', '--pool', ref.pool)}`,
    );
  }
  return v;
}

function poolFor(state: CreateState, pool: string, why: string): PoolRecord & { targetPath: string } {
  const p = state.pools.get(pool);
  if (!p) throw new NotFoundError(`storage pool ${JSON.stringify(pool)} not found (${why})`, `list the pools with: ${kvmctlCommand(state.uri, 'pool', 'list')}, or name one with pool=`);
  if (!p.active) throw new RefusedError(`storage pool ${JSON.stringify(pool)} is not active (${why})`, `start it with: ${kvmctlCommand(state.uri, 'pool', 'start', pool)}`);
  if (!PATH_POOL_TYPES.includes(p.type) || p.targetPath === undefined) {
    throw new RefusedError(`storage pool ${JSON.stringify(pool)} is of type ${p.type}: vm create makes new volumes only in dir, fs, netfs and logical pools`, 'create the volume with kvmctl volume create, then use --disk vol=POOL/VOL');
  }
  return { ...p, targetPath: p.targetPath };
}

function formatOf(v: VolumeDefinition): VolumeFormat {
  return (v.format ?? 'raw') as VolumeFormat;
}

function extensionOf(format: VolumeFormat): string {
  return format === 'qcow2' ? 'qcow2' : 'img';
}

function chooseVirtType(req: CreateRequest, state: CreateState, kvm: { usable: boolean; reason: string } | undefined, warnings: string[]): 'kvm' | 'qemu' {
  const offered = offeredDomainTypes(state.caps);
  const kvmWorks = offered.includes('kvm') && (kvm === undefined || kvm.usable);
  const why = kvm && !kvm.usable ? kvm.reason : 'the hypervisor does not offer KVM';
  if (req.virtType === 'kvm') {
    if (!kvmWorks) throw new RefusedError(`--virt-type kvm: KVM is not usable here: ${why}`, 'use --virt-type qemu (emulation), or run on a host with hardware virtualization (kvmctl host check)');
    return 'kvm';
  }
  if (req.virtType === 'qemu' || !kvmWorks) {
    if (!offered.includes('qemu')) throw new RefusedError('the hypervisor offers neither KVM nor emulation (qemu) for this architecture', 'install qemu-system-x86 on the host and restart libvirtd (kvmctl host check)');
    if (req.virtType === undefined) warnings.push(`KVM is not usable (${why}); using emulation (--virt-type qemu), which is much slower`);
    return 'qemu';
  }
  return 'kvm';
}

export function planCreate(req: CreateRequest, uuid: string, seedFiles: NoCloudFiles | undefined, state: CreateState, kvm: { usable: boolean; reason: string } | undefined): CreatePlan {
  const warnings: string[] = [];
  const type = chooseVirtType(req, state, kvm, warnings);
  if (req.cpu === 'host-passthrough' && type !== 'kvm') {
    throw new RefusedError('--cpu host-passthrough needs KVM, which is not usable here', 'leave out --cpu, or use --cpu host-model');
  }
  if (req.uefi && !(state.firmware.get(type) ?? []).includes('efi')) {
    throw new RefusedError('--boot uefi: no UEFI firmware is installed for the hypervisor', 'install it on the host (Debian: apt-get install ovmf; Fedora: dnf install edk2-ovmf), or leave out --boot uefi');
  }
  for (const n of req.networks) {
    if (n.type !== 'network') continue;
    const net = state.networks.find((x) => x.name === n.network);
    if (!net) throw new NotFoundError(`network ${JSON.stringify(n.network)} not found`, `list the networks with: ${kvmctlCommand(state.uri, 'net', 'list')}, or use --network bridge=BR or --network none`);
    if (!net.active) throw new RefusedError(`network ${JSON.stringify(n.network)} is not active`, `start it with: ${kvmctlCommand(state.uri, 'net', 'start', n.network)}`);
  }
  warnings.push(...overcommitWarnings(state.host, req.vcpus, req.memoryBytes));

  // Disks in guest order: the overlay, the --disk ones, the install ISO, the seed.
  type Pending = { device: 'disk' | 'cdrom'; bus: DiskBus; readonly?: boolean; path?: string; format: string; shareable?: boolean; volume?: Omit<PlannedVolume, 'name' | 'path'> & { targetPath: string } };
  const pending: Pending[] = [];
  if (req.image) {
    const base = volumeOf(state, req.image.base, 'base image');
    const pool = poolFor(state, defaultPool(req), `for the overlay of ${refKey(req.image.base)}`);
    if (pool.type === 'logical') throw new UsageError(`--image: pool ${pool.name} is a logical (LVM) pool, which holds raw volumes only`, 'put the overlay in a directory pool with --image POOL/VOL,pool=P');
    const baseSize = base.capacityBytes ?? 0;
    if (req.image.sizeBytes !== undefined && req.image.sizeBytes < baseSize) {
      throw new UsageError(`--image size=${formatBytes(req.image.sizeBytes)} is smaller than the base image ${refKey(req.image.base)} (${formatBytes(baseSize)})`, `give size= of at least ${formatBytes(baseSize)}, or leave it out`);
    }
    pending.push({
      device: 'disk',
      bus: 'virtio',
      format: 'qcow2',
      volume: { pool: pool.name, targetPath: pool.targetPath, format: 'qcow2', capacityBytes: req.image.sizeBytes ?? baseSize, backing: { path: base.path ?? '', format: formatOf(base) }, purpose: 'disk' },
    });
  }
  for (const d of req.disks) {
    if (d.kind === 'new') {
      const pool = poolFor(state, d.pool ?? defaultPool(req), 'for a new disk');
      if (pool.type === 'logical' && d.format !== 'raw') throw new UsageError(`--disk pool=${pool.name}: a logical (LVM) pool holds raw volumes only`, 'add format=raw');
      pending.push({ device: 'disk', bus: d.bus, format: d.format, volume: { pool: pool.name, targetPath: pool.targetPath, format: d.format, capacityBytes: d.sizeBytes, allocationBytes: thinAllocation(pool.type), purpose: 'disk' } });
    } else if (d.kind === 'volume') {
      const v = volumeOf(state, d.ref, 'volume');
      if (d.shareable && formatOf(v) !== 'raw') throw new UsageError(`--disk vol=${refKey(d.ref)},shareable=yes: the volume is ${formatOf(v)}; only a raw disk can be shared between VMs`, 'leave out shareable=yes, or use a raw volume');
      if (!d.shareable) refuseDiskOfOtherVm(`--disk vol=${refKey(d.ref)}`, volumeUsers(state.domains, { pool: d.ref.pool, name: d.ref.volume, path: v.path ?? '' }), req.name);
      pending.push({ device: 'disk', bus: d.bus, path: v.path, format: formatOf(v), shareable: d.shareable });
    } else {
      if (!d.shareable) {
        const paths = new Set([d.path, d.hostPath ?? d.path]);
        const users = state.domains.flatMap((dom) => [...paths].flatMap((path) => volumeUsers([dom], { pool: '', name: '', path })));
        refuseDiskOfOtherVm(`--disk path=${d.path}`, users, req.name);
      }
      pending.push({ device: 'disk', bus: d.bus, path: d.path, format: d.format, shareable: d.shareable });
    }
  }
  if (req.cdrom) {
    const path = req.cdrom.kind === 'path' ? req.cdrom.path : volumeOf(state, req.cdrom.ref, 'ISO volume').path;
    pending.push({ device: 'cdrom', bus: CDROM_BUS, path, format: 'raw' });
  }
  if (seedFiles) {
    const pool = poolFor(state, seedPool(req), 'for the cloud-init seed');
    pending.push({ device: 'disk', bus: SEED_BUS, readonly: true, format: 'raw', volume: { pool: pool.name, targetPath: pool.targetPath, format: 'raw', allocationBytes: thinAllocation(pool.type), purpose: 'seed' } });
  }

  const targets = targetDevs(pending.map((p) => p.bus));
  const volumes: PlannedVolume[] = [];
  let seed: CreatePlan['seed'];
  const disks: DiskSpec[] = pending.map((p, i) => {
    const target = targets[i] ?? '';
    let path = p.path ?? '';
    if (p.volume) {
      const { targetPath, ...v } = p.volume;
      const name = v.purpose === 'seed' ? `${req.name}-seed.iso` : i === 0 ? `${req.name}.${extensionOf(v.format)}` : `${req.name}-${target}.${extensionOf(v.format)}`;
      path = `${targetPath.replace(/\/+$/, '')}/${name}`;
      const planned = { ...v, name, path };
      if (v.purpose === 'seed' && seedFiles) seed = { volume: planned, files: seedFiles };
      else volumes.push(planned);
    }
    return { device: p.device, path, format: p.format, bus: p.bus, target, readonly: p.readonly, ...(p.shareable ? { shareable: true } : {}) };
  });

  const nics: NicSpec[] = req.networks.map((n) =>
    n.type === 'network'
      ? { type: 'network', network: n.network, model: n.model, mac: n.mac ?? randomMac() }
      : { type: 'bridge', bridge: n.bridge, model: n.model, mac: n.mac ?? randomMac() },
  );
  const first = disks.findIndex((d) => d.device === 'disk');
  const firstPool = pending[first]?.volume?.pool;
  const spec: DomainSpec = {
    type,
    name: req.name,
    uuid,
    memoryBytes: req.memoryBytes,
    vcpus: req.vcpus,
    arch: state.caps.hostArch ?? 'x86_64',
    cpuMode: req.cpu ?? (type === 'kvm' ? 'host-passthrough' : undefined),
    firmware: req.uefi ? 'efi' : 'bios',
    kernel: req.kernel,
    bootDevices: req.kernel ? [] : req.cdrom ? ['cdrom', 'hd'] : ['hd'],
    disks,
    interfaces: nics,
    graphics: req.graphics,
    serialLog: `${req.logDir?.replace(/\/+$/, '') ?? logDirFor(disks[first], firstPool === undefined ? undefined : state.pools.get(firstPool))}/${req.name}.serial.log`,
    metadata: seed ? { seed: { pool: seed.volume.pool, volume: seed.volume.name }, ssh: sshLogin(req.cloudInit) } : undefined,
  };
  return { spec, volumes, seed, warnings };
}

/** A disk that another VM writes (or reads) is corrupted by a second writer: refused unless shared on purpose. */
function refuseDiskOfOtherVm(what: string, users: VolumeUser[], self: string): void {
  const others = users.filter((u) => u.vm !== self);
  if (others.length === 0) return;
  throw new RefusedError(
    `${what} is already a disk of ${others.map((u) => `VM ${u.vm} (${u.state})`).join(', ')}; two VMs writing one disk corrupt it`,
    'give the new VM its own disk (kvmctl volume clone), or, for a raw disk meant for a cluster filesystem, add shareable=yes',
  );
}

/** Beside the first disk when it is a file in a directory; else libvirt's own log directory. */
function logDirFor(firstDisk: DiskSpec | undefined, pool: PoolRecord | undefined): string {
  if (!firstDisk || firstDisk.path.startsWith('/dev/')) return FALLBACK_LOG_DIR;
  if (pool && !DIR_POOL_TYPES.includes(pool.type)) return FALLBACK_LOG_DIR;
  return dirname(firstDisk.path);
}

function checkVolumeNamesFree(plan: CreatePlan, state: CreateState): void {
  for (const v of [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])]) {
    const taken = state.pools.get(v.pool)?.volumes?.some((x) => x.name === v.name || x.path === v.path);
    if (taken) {
      throw new ConflictError(
        `volume ${v.pool}/${v.name} already exists (vm create ${plan.spec.name} would create it)`,
        `delete it if it is left over (${kvmctlCommand(state.uri, 'volume', 'delete', `${v.pool}/${v.name}`)}), or choose another VM name`,
      );
    }
  }
}

// ---- an existing VM ----------------------------------------------------------------

/** How an existing VM differs from what the request would create, as "what: has -> wanted" lines. */
export function specDifferences(have: DomainDefinition, want: DomainSpec, req: CreateRequest): string[] {
  const diffs: string[] = [];
  const cmp = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: ${show(a)} -> ${show(b)}`);
  };
  cmp('type', have.type, want.type);
  cmp('memory', formatBytes(have.memoryBytes), formatBytes(Math.ceil(want.memoryBytes / 1024) * 1024));
  cmp('vCPUs', have.vcpus, want.vcpus);
  cmp(
    'disks',
    have.disks.map((d) => `${d.target.dev}=${diskPath(d) ?? sourceKey(d.source) ?? '-'}`),
    want.disks.map((d) => `${d.target}=${d.path}`),
  );
  cmp(
    'NICs',
    have.interfaces.map((n, i) => nicText(n.type, n.type === 'network' ? n.source.network : n.type === 'bridge' ? n.source.bridge : '', n.model, req.networks[i]?.mac ? n.mac : undefined)),
    want.interfaces.map((n, i) => nicText(n.type, n.type === 'network' ? n.network : n.bridge, n.model, req.networks[i]?.mac)),
  );
  cmp('graphics', have.graphics, want.graphics === 'none' ? [] : [want.graphics]);
  cmp('kernel', [have.os.kernel, have.os.initrd, have.os.cmdline], [want.kernel?.kernel, want.kernel?.initrd, want.kernel?.cmdline]);
  cmp('firmware', have.os.firmware === 'efi' ? 'efi' : 'bios', want.firmware);
  return diffs;
}

function nicText(type: string, source: string, model: string | undefined, mac: string | undefined): string {
  return `${type}=${source}${model ? `,model=${model}` : ''}${mac ? `,mac=${mac}` : ''}`;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => (x === undefined || x === null ? '-' : String(x))).join(' ');
  return v === undefined || v === null ? '(none)' : String(v);
}

async function reportExisting(ctx: Context, req: CreateRequest, plan: CreatePlan, existing: DomainDefinition): Promise<void> {
  const diffs = specDifferences(existing, plan.spec, req);
  if (diffs.length > 0) {
    throw new ConflictError(
      `VM ${JSON.stringify(req.name)} already exists with a different spec (${diffs.join('; ')}); it was left unchanged`,
      `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'delete', req.name)}`,
    );
  }
  // Converge: the spec asks for a running VM (the default), so a shut-off one is started.
  const state = req.start ? (await readVmState(ctx, req.name)).state : undefined;
  const start = state !== undefined && !isActive(state);
  if (start && !ctx.dryRun) await runVirsh(ctx.runner, domainCommands.start(ctx.uri, req.name), { kind: 'vm', name: req.name }, ctx.uri);
  const summary = `vm ${req.name} unchanged (it exists with this spec)${start ? `; it was ${state}, ${ctx.dryRun ? 'would start' : 'started'} it` : ''}`;
  const json = { name: req.name, unchanged: true, ...(state !== undefined && { started: start && !ctx.dryRun, state: start && !ctx.dryRun ? 'running' : state }) };
  if (!req.waitIp || ctx.dryRun) return ctx.out.done(summary, json);
  ctx.out.info(summary);
  await waitAndPrint(ctx, req, json);
}

/** --wait ip|ready after a create or a converging re-run: prints the addresses (JSON: the object with them). */
async function waitAndPrint(ctx: Context, req: CreateRequest, json: Record<string, unknown>): Promise<void> {
  if (req.waitReady) {
    const { ready, addresses } = await waitForReadyAddress(ctx, req.name, req.timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ ...json, cloudInit: ready, addresses });
    ctx.out.info(readyLine(req.name, ready));
    return ctx.out.raw(addresses.map((a) => a.address).join('\n'));
  }
  const found = await waitForAddress(ctx, req.name, req.timeoutSeconds);
  if (ctx.out.json) return ctx.out.printJson({ ...json, addresses: found });
  ctx.out.raw(found.map((a) => a.address).join('\n'));
}

// ---- running it ----------------------------------------------------------------

async function execute(ctx: Context, req: CreateRequest, plan: CreatePlan, isoTool: SeedIsoTool | undefined): Promise<void> {
  const uri = ctx.uri;
  const seedImage = plan.seed && isoTool ? await writeSeedImage(ctx.runner, isoTool, plan.seed.files) : undefined;
  try {
    await ctx.transaction(`vm create ${req.name}`).run(async (tx) => {
      const step = async (cmd: Command, subject: Parameters<typeof runVirsh>[2]) => {
        await runVirsh(ctx.runner, cmd, subject, uri);
        tx.checkpoint();
      };
      const createVolume = async (v: PlannedVolume, capacityBytes: number) => {
        const cmd = volumeCommands.create(uri, {
          pool: v.pool,
          name: v.name,
          capacityBytes,
          format: v.format,
          backingPath: v.backing?.path,
          backingFormat: v.backing?.format,
          // Sparse where the pool holds files: a new raw disk would otherwise be written out in full.
          allocationBytes: v.allocationBytes,
        });
        const undo = volumeCommands.delete(uri, v.pool, v.name);
        await runVirsh(ctx.runner, cmd, { kind: 'volume', name: `${v.pool}/${v.name}` }, uri);
        tx.onRollback({ what: `volume ${v.pool}/${v.name}`, run: async () => void (await runVirsh(ctx.runner, undo, undefined, uri)), manual: formatCommand(undo) });
        tx.checkpoint();
      };
      for (const v of plan.volumes) await createVolume(v, v.capacityBytes ?? 0);
      if (plan.seed && seedImage) {
        const v = plan.seed.volume;
        await createVolume(v, seedImage.bytes);
        await step(volumeCommands.upload(uri, v.pool, v.name, seedImage.file), { kind: 'volume', name: `${v.pool}/${v.name}` });
      }
      const define = domainCommands.define(uri, encodeXml(buildDomainXml(plan.spec)));
      const undefine = domainCommands.undefine(uri, req.name);
      await runVirsh(ctx.runner, define, { kind: 'vm', name: req.name }, uri);
      tx.onRollback({ what: `VM ${req.name} (definition)`, run: async () => void (await runVirsh(ctx.runner, undefine, undefined, uri)), manual: formatCommand(undefine) });
      tx.checkpoint();
      if (req.autostart) await step(domainCommands.autostart(uri, req.name, true), { kind: 'vm', name: req.name });
      if (req.start) {
        const destroy = domainCommands.destroy(uri, req.name);
        await runVirsh(ctx.runner, domainCommands.start(uri, req.name), { kind: 'vm', name: req.name }, uri);
        tx.onRollback({ what: `VM ${req.name} (running)`, run: async () => void (await runVirsh(ctx.runner, destroy, undefined, uri)), manual: formatCommand(destroy) });
      }
    });
  } finally {
    await seedImage?.dispose();
  }
}

function planJson(plan: CreatePlan) {
  const vols = [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])];
  return vols.map((v) => ({
    pool: v.pool,
    name: v.name,
    path: v.path,
    format: v.format,
    capacityBytes: v.capacityBytes,
    backingFile: v.backing?.path,
    purpose: v.purpose,
  }));
}

function describeVolume(v: PlannedVolume): string {
  const parts: string[] = [v.format];
  if (v.capacityBytes !== undefined) parts.push(formatBytes(v.capacityBytes) ?? '');
  if (v.backing) parts.push(`thin overlay of ${v.backing.path}`);
  if (v.purpose === 'seed') parts.push('cloud-init NoCloud seed, label cidata');
  return `${v.pool}/${v.name} (${parts.join(', ')})`;
}

function printPlan(ctx: Context, plan: CreatePlan): void {
  for (const w of plan.warnings) ctx.out.warn(w);
  const xml = encodeXml(buildDomainXml(plan.spec));
  if (ctx.out.json) {
    return ctx.out.printJson({
      name: plan.spec.name,
      xml,
      volumes: planJson(plan),
      seed: plan.seed ? { pool: plan.seed.volume.pool, volume: plan.seed.volume.name, ...plan.seed.files } : undefined,
    });
  }
  // The XML alone on stdout, so `--print-xml > vm.xml` is a file virsh define accepts.
  const vols = [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])];
  if (vols.length === 0) ctx.out.info('would create no volumes');
  for (const v of vols) ctx.out.info(`would create volume ${describeVolume(v)}`);
  ctx.out.raw(xml);
}

async function report(ctx: Context, req: CreateRequest, plan: CreatePlan): Promise<void> {
  const s = plan.spec;
  const state = ctx.dryRun ? 'planned' : req.start ? 'running' : 'shutoff';
  const summary = `vm ${req.name} ${ctx.dryRun ? 'would be created' : 'created'}${req.start ? ' and started' : ''} (${s.type}, ${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}, ${formatBytes(s.memoryBytes)}); serial log: ${s.serialLog}`;
  const json = { name: req.name, uuid: s.uuid, virtType: s.type, state, autostart: req.autostart, volumes: planJson(plan), serialLog: s.serialLog };
  if (!req.waitIp || ctx.dryRun) return ctx.out.done(summary, json);
  ctx.out.info(summary);
  try {
    await waitAndPrint(ctx, req, json);
  } catch (err) {
    // The VM stays: it was created as asked; only the address (or readiness) is missing.
    if (err instanceof TimeoutError) throw new TimeoutError(`vm ${req.name} was created and started, but ${err.message}`, err.hint);
    throw err;
  }
}

/** What `vm ssh` uses later: the private key beside the --ssh-key file (its name without .pub), and --ssh-user. */
function sshLogin(ci: CloudInitRequest | undefined): KvmctlMetadata['ssh'] {
  if (ci?.sshKeyFile === undefined) return undefined;
  return { key: resolve(ci.sshKeyFile).replace(/\.pub$/, ''), user: ci.sshUser };
}
