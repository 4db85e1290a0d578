/**
 * libvirt domain XML (https://libvirt.org/formatdomain.html): the typed model
 * and its reader. Field names mirror libvirt's elements and attributes. The
 * builder `vm create` uses is domain-builder.ts, the clone transform
 * domain-clone.ts, kvmctl's own <metadata> entry domain-metadata.ts.
 */
import { libvirtUnitFactor } from '../units/size.js';
import { kvmctlMetadataOf, type KvmctlMetadata } from './domain-metadata.js';
import { attr, child, children, path, textOf, xmlParser, type XmlNode } from './xml-codec.js';

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
  /** <shareable/>: several VMs may write it at once (raw, no host cache). */
  shareable?: boolean;
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
  /** <serial>/<console> devices: type, the host pty of a running domain, the log file. */
  consoles?: DomainConsole[];
  /** <cpu mode=…> (host-passthrough, host-model, custom). */
  cpuMode?: string;
  /** What kvmctl recorded in <metadata> when it created the domain. */
  kvmctl?: KvmctlMetadata;
}

export interface DomainConsole {
  /** serial or console */
  kind: string;
  type: string;
  /** /dev/pts/N while the domain runs (pty type). */
  path?: string;
  logFile?: string;
}

/** <memory unit='KiB'>N</memory> -> bytes (libvirt's default unit is KiB). */
export function memoryBytes(node: XmlNode | undefined): number {
  if (!node?.text) return 0;
  return Number(node.text) * (libvirtUnitFactor(attr(node, 'unit') ?? 'KiB') ?? 1024);
}

export const parseDomainXml: (xml: string) => Promise<DomainDefinition> = xmlParser(domainFromNode);

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
    consoles: [...children(devices, 'serial'), ...children(devices, 'console')].map((c) => ({
      kind: c.tag,
      type: attr(c, 'type') ?? '',
      path: attr(child(c, 'source'), 'path') ?? attr(c, 'tty'),
      logFile: attr(child(c, 'log'), 'file'),
    })),
    cpuMode: attr(child(root, 'cpu'), 'mode'),
    kvmctl: kvmctlMetadataOf(root),
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
    shareable: child(d, 'shareable') !== undefined ? true : undefined,
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

/** What identifies a disk's source in CloneChanges.disks: its path, or POOL/VOLUME for a volume-type disk. */
export function sourceKey(source: DiskSource | undefined): string | undefined {
  if (!source) return undefined;
  if (source.file !== undefined) return source.file;
  if (source.dev !== undefined) return source.dev;
  return source.pool !== undefined && source.volume !== undefined ? `${source.pool}/${source.volume}` : undefined;
}
