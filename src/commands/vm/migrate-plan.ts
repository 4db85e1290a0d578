/**
 * The read-only pre-check of `vm migrate`: from what the source and the target
 * report, either the list of reasons libvirt would refuse (or a move would do
 * harm), or the plan (live or offline, which disks stay on shared storage and
 * which are copied, and where to). Pure: unit-tested with recorded outputs.
 */
import { basename, dirname, join } from 'node:path';
import { kvmctlCommand } from '../../exec/command.js';
import type { DomainDefinition, DomainDisk } from '../../libvirt/domain-xml.js';
import type { HostMemory } from '../../libvirt/domain-commands.js';
import type { StorageMode } from '../../libvirt/migration.js';
import type { PoolRecord } from '../../libvirt/storage.js';
import type { VolumeDefinition } from '../../libvirt/volume-xml.js';
import { formatBytes } from '../../units/size.js';

export type StorageChoice = StorageMode | 'auto';

export interface SourceFacts {
  uri: string;
  label: string;
  state: string;
  def: DomainDefinition;
  /** A running VM's saved definition (what the target keeps, and starts it from after a shutdown). */
  saved?: DomainDefinition;
  hostUuid?: string;
  /** vol-dumpxml of each disk's path on the source (undefined: no pool holds it). */
  volumes: Map<string, VolumeDefinition | undefined>;
}

export interface TargetFacts {
  uri: string;
  label: string;
  hostUuid?: string;
  hasName: boolean;
  /** The name of the target's domain with the VM's UUID, if any. */
  uuidTakenBy?: string;
  activeNetworks: string[];
  allNetworks: string[];
  memory: HostMemory;
  pools: PoolRecord[];
  /** vol-dumpxml on the target of every path the plan looks at. */
  volumes: Map<string, VolumeDefinition | undefined>;
  /** libvirt's verdict on the guest CPU (hypervisor-cpu-compare); undefined when not compared. */
  cpuError?: string;
}

export interface PlanRequest {
  storage: StorageChoice;
  /** --target-pool: copied disks go into this pool of the target. */
  targetPool?: string;
}

export interface DiskPlan {
  target: string;
  path: string;
  action: 'shared' | 'copy' | 'copy-inc';
  /** Where the disk is on the target. */
  targetPath: string;
  targetPool?: string;
  /** copy-inc: the volume kvmctl creates on the target before the copy (libvirt does not). */
  create?: { pool: string; name: string; capacityBytes: number; format: string; backingPath?: string; backingFormat?: string };
}

export interface MigrationPlan {
  live: boolean;
  /** shared when nothing is copied, else the copy mode. */
  storage: StorageMode;
  disks: DiskPlan[];
  unsafe: boolean;
}

export interface Refusal {
  reason: string;
  hint: string;
}

/** States a migration starts from: running or paused is live, shut off is offline. */
const LIVE_STATES = ['running', 'paused'];

/** The disks whose contents matter: everything with a source, except an empty CD-ROM drive. */
function disksWithPath(def: DomainDefinition): Array<DomainDisk & { path: string }> {
  return def.disks.flatMap((d) => {
    const path = d.source?.file ?? d.source?.dev;
    return path !== undefined ? [{ ...d, path }] : [];
  });
}

/** The target sees the same volume at the same path: same size, format and backing file. */
export function sameVolume(a: VolumeDefinition | undefined, b: VolumeDefinition | undefined): boolean {
  if (!a || !b) return false;
  return a.capacityBytes === b.capacityBytes && a.format === b.format && (a.backingStore?.path ?? '') === (b.backingStore?.path ?? '');
}

function offlineCopy(d: DomainDisk & { path: string }, target: string): string {
  return `disk ${d.target.dev} (${d.path}): ${target} does not see the same volume at that path, and a shut-off VM's disks cannot be copied (libvirt: "offline migration cannot handle non-shared storage")`;
}

export function planMigration(src: SourceFacts, dst: TargetFacts, req: PlanRequest): { plan?: MigrationPlan; refusals: Refusal[] } {
  const refusals: Refusal[] = [];
  const refuse = (reason: string, hint: string) => refusals.push({ reason, hint });
  const name = src.def.name;
  const live = LIVE_STATES.includes(src.state);
  if (!live && src.state !== 'shutoff') refuse(`it is ${src.state}`, `bring it to running or shut off first (${kvmctlCommand(src.uri, 'vm', 'info', name)})`);

  if (src.hostUuid !== undefined && src.hostUuid === dst.hostUuid) {
    refuse(`${dst.label} is the same host as ${src.label} (host UUID ${src.hostUuid})`, 'name another host with --to; two libvirt daemons with the same host_uuid are one host to libvirt');
  }
  if (dst.hasName) refuse(`${dst.label} already has a VM named ${JSON.stringify(name)}`, `rename or delete that one first (${kvmctlCommand(dst.uri, 'vm', 'info', name)})`);
  else if (dst.uuidTakenBy !== undefined) {
    refuse(`${dst.label} already has a VM with its UUID ${src.def.uuid ?? ''} (${JSON.stringify(dst.uuidTakenBy)})`, `delete that one first if it is a stale copy (${kvmctlCommand(dst.uri, 'vm', 'info', dst.uuidTakenBy)})`);
  }

  const networksOf = (def: DomainDefinition | undefined) => (def?.interfaces ?? []).flatMap((nic) => (nic.type === 'network' ? [nic.source.network] : []));
  const now = new Set(networksOf(src.def));
  for (const net of now) {
    if (dst.activeNetworks.includes(net)) continue;
    if (dst.allNetworks.includes(net)) refuse(`network ${JSON.stringify(net)} is not active on ${dst.label}`, `start it: ${kvmctlCommand(dst.uri, 'net', 'start', net)}`);
    else refuse(`network ${JSON.stringify(net)} does not exist on ${dst.label}`, `create it there first (${kvmctlCommand(dst.uri, 'net', 'list')} shows what exists)`);
  }
  // A NIC only the saved definition has (attached with --config) is not needed to move, but to start there after a shutdown.
  for (const net of new Set(networksOf(src.saved))) {
    if (now.has(net) || dst.allNetworks.includes(net)) continue;
    refuse(
      `network ${JSON.stringify(net)}, which its saved definition uses, does not exist on ${dst.label}: it would not start there after a shutdown`,
      `create it there first (${kvmctlCommand(dst.uri, 'net', 'list')} shows what exists), or detach that NIC from the saved definition`,
    );
  }

  // A running guest needs its memory free now; a shut-off one must at least fit the host.
  const need = live ? src.def.currentMemoryBytes : src.def.memoryBytes;
  const have = live ? dst.memory.availableBytes : dst.memory.totalBytes;
  if (have !== undefined && need > have) {
    refuse(
      `${dst.label} has ${formatBytes(have)} of memory ${live ? 'available' : 'in all'}, the VM needs ${formatBytes(need)}`,
      live ? `free memory on ${dst.label}, or choose another host (${kvmctlCommand(undefined, 'host', 'list')})` : 'choose a host with more memory',
    );
  }
  if (dst.cpuError !== undefined) refuse(`the CPU of ${dst.label} cannot run the guest's CPU: ${dst.cpuError}`, 'choose a host with that CPU, or give the VM a CPU model both hosts have');

  const pool = req.targetPool !== undefined ? dst.pools.find((p) => p.name === req.targetPool) : undefined;
  if (req.targetPool !== undefined) {
    if (!pool) refuse(`storage pool ${JSON.stringify(req.targetPool)} does not exist on ${dst.label}`, `list its pools: ${kvmctlCommand(dst.uri, 'pool', 'list')}`);
    else if (!pool.active) refuse(`storage pool ${JSON.stringify(pool.name)} is not active on ${dst.label}`, `start it: ${kvmctlCommand(dst.uri, 'pool', 'start', pool.name)}`);
    else if (!pool.targetPath) refuse(`storage pool ${JSON.stringify(pool.name)} on ${dst.label} has no directory to copy disks into`, 'name a dir, fs or netfs pool');
  }

  const disks: DiskPlan[] = [];
  for (const d of disksWithPath(src.def)) {
    const shared = sameVolume(src.volumes.get(d.path), dst.volumes.get(d.path));
    const copyMode: 'copy' | 'copy-inc' = req.storage === 'copy-inc' ? 'copy-inc' : 'copy';
    // --target-pool moves every disk; otherwise only what the target does not see is copied.
    const wantsCopy = pool !== undefined || (req.storage !== 'shared' && !shared);
    if (!wantsCopy || d.readonly || d.device === 'cdrom') {
      if (!shared) {
        const why = d.readonly || d.device === 'cdrom' ? 'a read-only disk is never copied, and' : live ? 'it is not copied (--storage shared) and' : undefined;
        refuse(
          why ? `disk ${d.target.dev} (${d.path}): ${why} ${dst.label} does not see the same volume at that path` : offlineCopy(d, dst.label),
          live ? `copy it with --storage copy (or auto), or put it on storage both hosts see` : `start the VM and migrate it live with --storage copy, or put its disks on storage both hosts see`,
        );
      }
      disks.push({ target: d.target.dev, path: d.path, action: 'shared', targetPath: d.path });
      continue;
    }
    if (!live) {
      refuse(offlineCopy(d, dst.label), 'start the VM and migrate it live with --storage copy, or put its disks on storage both hosts see');
      continue;
    }
    const into = pool ?? dst.pools.find((p) => p.active && p.targetPath === dirname(d.path));
    if (!into?.targetPath) {
      if (req.targetPool === undefined) {
        refuse(`disk ${d.target.dev} (${d.path}): ${dst.label} has no active storage pool for ${dirname(d.path)} to copy it into`, `name one with --target-pool POOL (${kvmctlCommand(dst.uri, 'pool', 'list')})`);
      }
      continue;
    }
    const targetPath = join(into.targetPath, basename(d.path));
    if (targetPath === d.path && shared) {
      refuse(`disk ${d.target.dev} (${d.path}): ${dst.label} sees this very volume; copying it onto itself would destroy it`, 'use --storage shared, or --target-pool another pool');
      continue;
    }
    if (dst.volumes.get(targetPath) !== undefined || into.volumes?.some((v) => v.path === targetPath)) {
      refuse(`disk ${d.target.dev}: volume ${into.name}/${basename(d.path)} already exists on ${dst.label} (${targetPath})`, `delete it there first, or copy into another pool with --target-pool`);
      continue;
    }
    const vol = src.volumes.get(d.path);
    const plan: DiskPlan = { target: d.target.dev, path: d.path, action: copyMode, targetPath, targetPool: into.name };
    if (copyMode === 'copy-inc') {
      const backing = vol?.backingStore;
      const srcBase = backing ? src.volumes.get(backing.path) : undefined;
      const dstBase = backing ? dst.volumes.get(backing.path) : undefined;
      if (backing && (!dstBase || (srcBase !== undefined && !sameVolume(srcBase, dstBase)))) {
        refuse(`disk ${d.target.dev}: copy-inc copies only its top image, and ${dst.label} does not see its base image ${backing.path}`, 'put the base image at the same path on the target, or use --storage copy (a full copy)');
        continue;
      }
      if (vol?.capacityBytes === undefined) {
        refuse(`disk ${d.target.dev} (${d.path}) is not a volume of any pool on ${src.label}, so its size and format are unknown`, 'use --storage copy, which lets libvirt create the target disk');
        continue;
      }
      plan.create = { pool: into.name, name: basename(d.path), capacityBytes: vol.capacityBytes, format: vol.format ?? d.driver?.type ?? 'raw', backingPath: backing?.path, backingFormat: backing?.format };
    }
    disks.push(plan);
  }
  if (refusals.length > 0) return { refusals };
  const copied = disks.filter((d) => d.action !== 'shared');
  const storage: StorageMode = copied.length === 0 ? 'shared' : req.storage === 'copy-inc' ? 'copy-inc' : 'copy';
  return { plan: { live, storage, disks, unsafe: disks.some((d) => d.action === 'shared') }, refusals };
}
