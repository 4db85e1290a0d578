/**
 * The VM as `-o json` prints it (schemas/vm-info.schema.json): the one place
 * that maps libvirt's definition and live facts to that object, so vm info,
 * create, clone and set cannot drift apart. Every key is always present; what
 * is unknown or does not apply is null.
 */
import type { DhcpLease } from '../../libvirt/network-commands.js';
import { diskPath, sourceKey, type DomainConsole, type DomainDefinition } from '../../libvirt/domain-xml.js';
import type { SnapshotRow } from './snapshot/snapshots.js';

/** Where an address was read (docs/json.md): libvirt's DHCP leases, the guest agent, the host's neighbour table. */
export type AddressSourceName = 'lease' | 'agent' | 'arp' | 'static' | 'kernel';

/** schemas/common.schema.json#/definitions/address. */
export interface VmAddress {
  address: string;
  prefix: number | null;
  mac: string | null;
  source: AddressSourceName;
}

export interface VmDisk {
  target: string;
  device: string;
  bus: string | null;
  source: string | null;
  format: string | null;
  capacityBytes: number | null;
  readonly: boolean;
}

export interface VmNic {
  type: string;
  source: string | null;
  model: string | null;
  mac: string | null;
  addresses: VmAddress[];
}

export interface VmConsole {
  kind: string;
  type: string;
  path: string | null;
  logFile: string | null;
}

export interface VmBoot {
  firmware: 'uefi' | 'bios';
  devices: string[];
  kernel: string | null;
  initrd: string | null;
  cmdline: string | null;
}

export interface VmObject {
  name: string;
  uuid: string | null;
  state: string;
  reason: string | null;
  virtType: string;
  vcpus: number;
  memoryBytes: number;
  maxMemoryBytes: number;
  autostart: boolean | null;
  persistent: boolean | null;
  boot: VmBoot;
  disks: VmDisk[];
  nics: VmNic[];
  /** Every address of the VM's NICs (the same objects as in nics[].addresses). */
  addresses: VmAddress[];
  consoles: VmConsole[];
  snapshots: SnapshotRow[];
}

/** What libvirt says about the VM beside its definition. */
export interface VmFacts {
  state: string;
  reason?: string;
  uuid?: string;
  autostart?: boolean;
  persistent?: boolean;
  /** Memory the running guest has now (dominfo's "Used memory"); else the definition's current memory. */
  usedMemoryBytes?: number;
  /** Virtual size of each disk, by target (vda). */
  capacity?: ReadonlyMap<string, number>;
  addresses?: VmAddress[];
  snapshots?: SnapshotRow[];
}

/** A DHCP lease as an address of the VM holding it. */
export function leaseAddress(l: Pick<DhcpLease, 'ip' | 'prefix' | 'mac'>): VmAddress {
  return { address: l.ip, prefix: Number.isInteger(l.prefix) ? l.prefix : null, mac: l.mac ? l.mac.toLowerCase() : null, source: 'lease' };
}

/** The source of a NIC as a user would name it. */
function nicSource(n: DomainDefinition['interfaces'][number]): string | null {
  switch (n.type) {
    case 'network':
      return n.source.network;
    case 'bridge':
      return n.source.bridge;
    case 'direct':
      return n.source.dev;
    default:
      return null;
  }
}

function consoleObject(c: DomainConsole): VmConsole {
  return { kind: c.kind, type: c.type, path: c.path ?? null, logFile: c.logFile ?? null };
}

export function vmObject(def: DomainDefinition, facts: VmFacts): VmObject {
  const addresses = facts.addresses ?? [];
  const nics = def.interfaces.map((n): VmNic => {
    const mac = n.mac ? n.mac.toLowerCase() : null;
    return { type: n.type === 'other' ? n.rawType : n.type, source: nicSource(n), model: n.model ?? null, mac, addresses: mac ? addresses.filter((a) => a.mac === mac) : [] };
  });
  const serials = (def.consoles ?? []).filter((c) => c.kind === 'serial');
  return {
    name: def.name,
    uuid: def.uuid ?? facts.uuid ?? null,
    state: facts.state,
    reason: facts.reason ?? null,
    virtType: def.type,
    vcpus: def.vcpus,
    memoryBytes: facts.usedMemoryBytes ?? def.currentMemoryBytes,
    maxMemoryBytes: def.memoryBytes,
    autostart: facts.autostart ?? null,
    persistent: facts.persistent ?? null,
    boot: {
      firmware: def.os.firmware === 'efi' || def.os.loader ? 'uefi' : 'bios',
      devices: def.os.boot,
      kernel: def.os.kernel ?? null,
      initrd: def.os.initrd ?? null,
      cmdline: def.os.cmdline ?? null,
    },
    disks: def.disks.map((d) => ({
      target: d.target.dev,
      device: d.device,
      bus: d.target.bus ?? null,
      source: diskPath(d) ?? sourceKey(d.source) ?? null,
      format: d.driver?.type ?? null,
      capacityBytes: facts.capacity?.get(d.target.dev) ?? null,
      readonly: d.readonly === true,
    })),
    nics,
    addresses: nics.flatMap((n) => n.addresses),
    consoles: (serials.length > 0 ? serials : (def.consoles ?? [])).map(consoleObject),
    snapshots: facts.snapshots ?? [],
  };
}

/** What a lifecycle verb prints (start, stop, reboot, suspend, resume, destroy): the VM's name and state after it. */
export interface VmStateResult {
  changed: boolean;
  name: string;
  state: string;
}

export function vmStateResult(name: string, state: string, changed: boolean): VmStateResult {
  return { changed, name, state };
}

/** cloud-init's readiness as vm wait --for ready and vm create --wait ready print it. */
export interface CloudInitObject {
  finished: string;
  upSeconds: number | null;
  datasource: string | null;
  problems: string[];
}

export function cloudInitObject(r: { finished: string; upSeconds?: number; datasource?: string; problems: string[] }): CloudInitObject {
  return { finished: r.finished, upSeconds: r.upSeconds ?? null, datasource: r.datasource ?? null, problems: r.problems };
}
