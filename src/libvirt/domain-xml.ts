/**
 * libvirt domain XML (https://libvirt.org/formatdomain.html): typed model and
 * reader. Field names mirror libvirt's elements and attributes.
 */
import { attr, child, children, decodeXml, path, textOf, type XmlNode } from './xml-codec.js';

export interface DiskSource {
  file?: string;
  dev?: string;
  pool?: string;
  volume?: string;
}

export interface DomainDisk {
  type: 'file' | 'block' | 'volume' | 'network' | 'dir';
  device: 'disk' | 'cdrom' | 'floppy' | 'lun';
  driver?: { name?: string; type?: string };
  source?: DiskSource;
  target: { dev: string; bus?: string };
  /** The first <backingStore><source file=…> libvirt reports for a running domain. */
  backingFile?: string;
  readonly?: boolean;
  bootOrder?: number;
}

interface InterfaceCommon {
  mac?: string;
  model?: string;
  /** The host-side device (vnetN) of a running domain. */
  targetDev?: string;
}

/** A NIC is a union on libvirt's `type` attribute. */
export type DomainInterface =
  | (InterfaceCommon & { type: 'network'; source: { network: string } })
  | (InterfaceCommon & { type: 'bridge'; source: { bridge: string } })
  | (InterfaceCommon & { type: 'direct'; source: { dev: string; mode?: string } })
  | (InterfaceCommon & { type: 'user' })
  | (InterfaceCommon & { type: 'other'; rawType: string });

export interface DomainOs {
  type: string;
  arch?: string;
  machine?: string;
  boot: string[];
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  loader?: string;
  nvram?: string;
  firmware?: string;
}

export interface DomainDefinition {
  /** kvm or qemu (TCG emulation). */
  type: string;
  name: string;
  uuid?: string;
  /** Maximum memory, bytes. */
  memoryBytes: number;
  currentMemoryBytes: number;
  vcpus: number;
  os: DomainOs;
  disks: DomainDisk[];
  interfaces: DomainInterface[];
  /** log file paths of <serial> devices (`vm log`). */
  serialLogs: string[];
  graphics: string[];
  /** Whether this is a running domain's live XML (it carries an id). */
  live: boolean;
}

const UNIT_BYTES: Record<string, number> = {
  b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4, tb: 1e12,
};

/** <memory unit='KiB'>N</memory> -> bytes (libvirt's default unit is KiB). */
export function memoryBytes(node: XmlNode | undefined): number {
  if (!node?.text) return 0;
  return Number(node.text) * (UNIT_BYTES[(attr(node, 'unit') ?? 'KiB').toLowerCase()] ?? 1024);
}

export async function parseDomainXml(xml: string): Promise<DomainDefinition> {
  return domainFromNode(await decodeXml(xml));
}

export function domainFromNode(root: XmlNode): DomainDefinition {
  const os = child(root, 'os');
  const typeNode = child(os, 'type');
  const devices = child(root, 'devices');
  return {
    type: attr(root, 'type') ?? 'qemu',
    name: textOf(child(root, 'name')) ?? '',
    uuid: textOf(child(root, 'uuid')),
    memoryBytes: memoryBytes(child(root, 'memory')),
    currentMemoryBytes: memoryBytes(child(root, 'currentMemory') ?? child(root, 'memory')),
    vcpus: Number(textOf(child(root, 'vcpu')) ?? '1'),
    os: {
      type: textOf(typeNode) ?? 'hvm',
      arch: attr(typeNode, 'arch'),
      machine: attr(typeNode, 'machine'),
      boot: children(os, 'boot').map((b) => attr(b, 'dev') ?? ''),
      kernel: textOf(child(os, 'kernel')),
      initrd: textOf(child(os, 'initrd')),
      cmdline: textOf(child(os, 'cmdline')),
      loader: textOf(child(os, 'loader')),
      nvram: textOf(child(os, 'nvram')),
      firmware: attr(os, 'firmware'),
    },
    disks: children(devices, 'disk').map(diskFromNode),
    interfaces: children(devices, 'interface').map(interfaceFromNode),
    serialLogs: children(devices, 'serial')
      .map((s) => attr(child(s, 'log'), 'file'))
      .filter((f): f is string => f !== undefined),
    graphics: children(devices, 'graphics').map((g) => attr(g, 'type') ?? ''),
    live: attr(root, 'id') !== undefined,
  };
}

function diskFromNode(d: XmlNode): DomainDisk {
  const source = child(d, 'source');
  const driver = child(d, 'driver');
  const boot = attr(child(d, 'boot'), 'order');
  return {
    type: (attr(d, 'type') ?? 'file') as DomainDisk['type'],
    device: (attr(d, 'device') ?? 'disk') as DomainDisk['device'],
    driver: driver ? { name: attr(driver, 'name'), type: attr(driver, 'type') } : undefined,
    source: source
      ? { file: attr(source, 'file'), dev: attr(source, 'dev'), pool: attr(source, 'pool'), volume: attr(source, 'volume') }
      : undefined,
    target: { dev: attr(child(d, 'target'), 'dev') ?? '', bus: attr(child(d, 'target'), 'bus') },
    backingFile: attr(path(d, 'backingStore', 'source'), 'file'),
    readonly: child(d, 'readonly') !== undefined,
    bootOrder: boot === undefined ? undefined : Number(boot),
  };
}

function interfaceFromNode(i: XmlNode): DomainInterface {
  const source = child(i, 'source');
  const common: InterfaceCommon = {
    mac: attr(child(i, 'mac'), 'address'),
    model: attr(child(i, 'model'), 'type'),
    targetDev: attr(child(i, 'target'), 'dev'),
  };
  const type = attr(i, 'type') ?? '';
  switch (type) {
    case 'network':
      return { ...common, type, source: { network: attr(source, 'network') ?? '' } };
    case 'bridge':
      return { ...common, type, source: { bridge: attr(source, 'bridge') ?? '' } };
    case 'direct':
      return { ...common, type, source: { dev: attr(source, 'dev') ?? '', mode: attr(source, 'mode') } };
    case 'user':
      return { ...common, type };
    default:
      return { ...common, type: 'other', rawType: type };
  }
}

/** The file or block device a disk reads, whatever its source form. */
export function diskPath(disk: DomainDisk): string | undefined {
  return disk.source?.file ?? disk.source?.dev;
}
