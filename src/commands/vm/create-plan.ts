/**
 * vm create's plan: the volumes to make and the domain XML, from the request
 * and the host's state (virt type, disks in guest order, fresh MACs, the
 * serial log), then the steps that make them.
 */
import { dirname, resolve } from 'node:path';
import { kvmctlCommand } from '../../exec/command.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { when, type Plan, type Step } from '../../exec/plan.js';
import { offeredDomainTypes } from '../../libvirt/capabilities.js';
import type { NoCloudFiles } from '../../libvirt/cloud-init.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { buildDomainXml, targetDevs, type DiskBus, type DiskSpec, type DomainSpec, type NicSpec } from '../../libvirt/domain-builder.js';
import type { KvmctlMetadata } from '../../libvirt/domain-metadata.js';
import { macsInUse, randomMac } from '../../libvirt/mac.js';
import { isDirectoryPoolType, isPoolType } from '../../libvirt/pool-xml.js';
import { thinAllocation, volumeCalls, volumeUsers, type PoolRecord, type VolumeFormat, type VolumeUser } from '../../libvirt/storage.js';
import type { VolumeDefinition } from '../../libvirt/volume-xml.js';
import { encodeXml } from '../../libvirt/xml-codec.js';
import type { VolumeRef } from '../../storage/volume-ref.js';
import { formatBytes } from '../../units/size.js';
import { overcommitWarnings } from './capacity.js';
import type { CloudInitRequest, CreateRequest } from './create-args.js';
import { defaultPool, refKey, seedPool, type CreateState } from './create-state.js';

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

export interface CreatePlan {
  spec: DomainSpec;
  /** The domain XML the define step feeds virsh, and what --print-xml prints. */
  xml: string;
  volumes: PlannedVolume[];
  seed?: { volume: PlannedVolume; files: NoCloudFiles };
  warnings: string[];
}

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
  if (!isPoolType(p.type) || p.targetPath === undefined) {
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

  const used = macsInUse(state.domains.map((d) => d.definition));
  for (const n of req.networks) if (n.mac) used.add(n.mac);
  const freshMac = (): string => {
    const mac = randomMac(used);
    used.add(mac);
    return mac;
  };
  const nics: NicSpec[] = req.networks.map((n) =>
    n.type === 'network'
      ? { type: 'network', network: n.network, model: n.model, mac: n.mac ?? freshMac() }
      : { type: 'bridge', bridge: n.bridge, model: n.model, mac: n.mac ?? freshMac() },
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
  return { spec, xml: encodeXml(buildDomainXml(spec)), volumes, seed, warnings };
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
  // The serial log can live in a directory pool's target too.
  if (pool && !isDirectoryPoolType(pool.type)) return FALLBACK_LOG_DIR;
  return dirname(firstDisk.path);
}

export function checkVolumeNamesFree(plan: CreatePlan, state: CreateState): void {
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

/**
 * The steps that make the VM, as data: its new volumes (and the seed, with the
 * image written beforehand), the definition, autostart, start. runPlan undoes
 * the ones that ran, in reverse, when a later one fails.
 */
export function createSteps(req: CreateRequest, plan: CreatePlan, seedImage: { bytes: number; file: string } | undefined): Plan {
  const volumeStep = (v: PlannedVolume, capacityBytes: number): Step => ({
    what: `volume ${v.pool}/${v.name}`,
    // Sparse where the pool holds files: a new raw disk would otherwise be written out in full.
    do: { virsh: volumeCalls.create({ pool: v.pool, name: v.name, capacityBytes, format: v.format, backingPath: v.backing?.path, backingFormat: v.backing?.format, allocationBytes: v.allocationBytes }) },
    undo: { virsh: volumeCalls.delete(v.pool, v.name) },
  });
  const seed = plan.seed && seedImage ? { volume: plan.seed.volume, image: seedImage } : undefined;
  return {
    label: `vm create ${req.name}`,
    steps: [
      ...plan.volumes.map((v) => volumeStep(v, v.capacityBytes ?? 0)),
      ...(seed
        ? [volumeStep(seed.volume, seed.image.bytes), { what: `cloud-init seed in ${seed.volume.pool}/${seed.volume.name}`, do: { virsh: volumeCalls.upload(seed.volume.pool, seed.volume.name, seed.image.file) } }]
        : []),
      { what: `VM ${req.name} (definition)`, do: { virsh: domainCalls.define(req.name, plan.xml) }, undo: { virsh: domainCalls.undefine(req.name) } },
      ...when(req.autostart, { what: `VM ${req.name} (autostart)`, do: { virsh: domainCalls.autostart(req.name, true) } }),
      ...when(req.start, { what: `VM ${req.name} (running)`, do: { virsh: domainCalls.start(req.name) }, undo: { virsh: domainCalls.destroy(req.name) } }),
    ],
  };
}

/** What `vm ssh` uses later: the private key beside the --ssh-key file (its name without .pub), and --ssh-user. */
function sshLogin(ci: CloudInitRequest | undefined): KvmctlMetadata['ssh'] {
  if (ci?.sshKeyFile === undefined) return undefined;
  return { key: resolve(ci.sshKeyFile).replace(/\.pub$/, ''), user: ci.sshUser };
}
