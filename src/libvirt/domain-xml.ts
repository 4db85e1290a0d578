/**
 * libvirt domain XML (https://libvirt.org/formatdomain.html): typed model,
 * reader, and the builder `vm create` uses. Field names mirror libvirt's
 * elements and attributes.
 */
import { randomUUID } from 'node:crypto';
import { attr, child, children, decodeXml, el, path, textOf, type XmlNode } from './xml-codec.js';

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

/** kvmctl's own <metadata> entry: what `vm create` made besides the disks, so `vm delete` can remove it. */
export interface KvmctlMetadata {
  /** The NoCloud seed ISO volume it created. */
  seed?: { pool: string; volume: string };
  /** How `vm ssh` logs in: the private key beside the public key given to --ssh-key, and the guest user (--ssh-user). */
  ssh?: { key?: string; user?: string };
}

/** The XML namespace of kvmctl's <metadata> element (libvirt keeps foreign namespaces verbatim). */
export const KVMCTL_METADATA_NS = 'urn:kvmctl:domain:1';

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

function kvmctlMetadataOf(root: XmlNode): KvmctlMetadata | undefined {
  // libvirt keeps the prefix it was given; match on the namespace, whatever the prefix.
  const entry = child(root, 'metadata')?.children.find((c) => Object.entries(c.attrs).some(([k, v]) => k.startsWith('xmlns') && v === KVMCTL_METADATA_NS));
  if (!entry) return undefined;
  const seed = entry.children.find((c) => c.tag.replace(/^.*:/, '') === 'seed');
  const pool = attr(seed, 'pool');
  const volume = attr(seed, 'volume');
  const ssh = entry.children.find((c) => c.tag.replace(/^.*:/, '') === 'ssh');
  return {
    seed: pool !== undefined && volume !== undefined ? { pool, volume } : undefined,
    ssh: ssh && { key: attr(ssh, 'key'), user: attr(ssh, 'user') },
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

// ---- builder -----------------------------------------------------------------

export type DiskBus = 'virtio' | 'sata' | 'scsi' | 'ide' | 'usb';
export const DISK_BUSES: readonly DiskBus[] = ['virtio', 'sata', 'scsi', 'ide', 'usb'];
export type NicModel = 'virtio' | 'e1000' | 'e1000e' | 'rtl8139';
export const NIC_MODELS: readonly NicModel[] = ['virtio', 'e1000', 'e1000e', 'rtl8139'];
export type GraphicsType = 'none' | 'vnc' | 'spice';
export const GRAPHICS_TYPES: readonly GraphicsType[] = ['none', 'vnc', 'spice'];

export interface DiskSpec {
  device: 'disk' | 'cdrom';
  /** The file or block device as the daemon sees it. */
  path: string;
  /** qcow2, raw, … (the image format, <driver type=…>). */
  format: string;
  bus: DiskBus;
  /** Guest device name: vda, sda, hda… (see targetDevs). */
  target: string;
  readonly?: boolean;
  /** Asked for with shareable=yes: another VM may use the same raw disk. */
  shareable?: boolean;
}

export type NicSpec =
  | { type: 'network'; network: string; mac: string; model: NicModel }
  | { type: 'bridge'; bridge: string; mac: string; model: NicModel };

export interface DomainSpec {
  /** kvm (hardware) or qemu (TCG emulation). */
  type: 'kvm' | 'qemu';
  name: string;
  uuid: string;
  memoryBytes: number;
  vcpus: number;
  /** Guest architecture, the host's own (x86_64). */
  arch: string;
  /** Omitted: libvirt's default CPU for the type (qemu64 under TCG). */
  cpuMode?: 'host-passthrough' | 'host-model';
  /** efi: libvirt picks an installed UEFI firmware and creates the nvram file. */
  firmware: 'bios' | 'efi';
  /** Direct kernel boot (paths on the host). */
  kernel?: { kernel: string; initrd?: string; cmdline?: string };
  /** BIOS boot order when not booting a kernel directly. */
  bootDevices: Array<'hd' | 'cdrom'>;
  disks: DiskSpec[];
  interfaces: NicSpec[];
  graphics: GraphicsType;
  /** Where the serial console's output is kept (the path the daemon writes). */
  serialLog: string;
  metadata?: KvmctlMetadata;
}

const KIB = 1024;

/**
 * The domain XML for a spec. Besides the disks and NICs asked for, every
 * domain gets ACPI (so `vm stop` can ask the guest to power off), a pty serial
 * console logged to a file (`vm console`, `vm log`), a guest-agent channel
 * (`vm ip --source agent`) and a virtio RNG (guests boot without waiting for entropy).
 */
export function buildDomainXml(spec: DomainSpec): XmlNode {
  const kib = Math.ceil(spec.memoryBytes / KIB);
  return el(
    'domain',
    { type: spec.type },
    el('name', {}, spec.name),
    el('uuid', {}, spec.uuid),
    spec.metadata && metadataNode(spec.metadata),
    el('memory', { unit: 'KiB' }, kib),
    el('currentMemory', { unit: 'KiB' }, kib),
    el('vcpu', {}, spec.vcpus),
    el(
      'os',
      spec.firmware === 'efi' ? { firmware: 'efi' } : {},
      el('type', { arch: spec.arch }, 'hvm'),
      spec.kernel && el('kernel', {}, spec.kernel.kernel),
      spec.kernel?.initrd !== undefined && el('initrd', {}, spec.kernel.initrd),
      spec.kernel?.cmdline !== undefined && el('cmdline', {}, spec.kernel.cmdline),
      spec.kernel ? [] : spec.bootDevices.map((dev) => el('boot', { dev })),
    ),
    el('features', {}, el('acpi'), el('apic')),
    spec.cpuMode && el('cpu', { mode: spec.cpuMode }),
    el('clock', { offset: 'utc' }),
    el('on_poweroff', {}, 'destroy'),
    el('on_reboot', {}, 'restart'),
    el('on_crash', {}, 'destroy'),
    el(
      'devices',
      {},
      spec.disks.map(diskNode),
      spec.interfaces.map(interfaceNode),
      el('serial', { type: 'pty' }, el('log', { file: spec.serialLog, append: 'off' }), el('target', { port: 0 })),
      el('console', { type: 'pty' }, el('target', { type: 'serial', port: 0 })),
      el('channel', { type: 'unix' }, el('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })),
      spec.graphics !== 'none' && el('graphics', { type: spec.graphics, autoport: 'yes' }, el('listen', { type: 'address', address: '127.0.0.1' })),
      spec.graphics !== 'none' && el('video', {}, el('model', { type: 'virtio' })),
      el('rng', { model: 'virtio' }, el('backend', { model: 'random' }, '/dev/urandom')),
    ),
  );
}

function metadataNode(m: KvmctlMetadata): XmlNode {
  const ssh = m.ssh && Object.fromEntries(Object.entries(m.ssh).filter(([, v]) => v !== undefined));
  return el(
    'metadata',
    {},
    el('kvmctl:domain', { 'xmlns:kvmctl': KVMCTL_METADATA_NS }, m.seed && el('kvmctl:seed', { pool: m.seed.pool, volume: m.seed.volume }), ssh && el('kvmctl:ssh', ssh)),
  );
}

function diskNode(d: DiskSpec): XmlNode {
  const block = d.path.startsWith('/dev/');
  return el(
    'disk',
    { type: block ? 'block' : 'file', device: d.device },
    el('driver', { name: 'qemu', type: d.format }),
    el('source', block ? { dev: d.path } : { file: d.path }),
    el('target', { dev: d.target, bus: d.bus }),
    (d.readonly || d.device === 'cdrom') && el('readonly'),
    d.shareable === true && el('shareable'),
  );
}

function interfaceNode(n: NicSpec): XmlNode {
  return el(
    'interface',
    { type: n.type },
    el('source', n.type === 'network' ? { network: n.network } : { bridge: n.bridge }),
    el('mac', { address: n.mac }),
    el('model', { type: n.model }),
  );
}

const TARGET_PREFIX: Record<DiskBus, string> = { virtio: 'vd', sata: 'sd', scsi: 'sd', usb: 'sd', ide: 'hd' };

/** Guest device names for disks on these buses, in order: vda, vdb, sda, … (as virt-install assigns them). */
export function targetDevs(buses: DiskBus[]): string[] {
  const used = new Map<string, number>();
  return buses.map((bus) => {
    const prefix = TARGET_PREFIX[bus];
    const n = used.get(prefix) ?? 0;
    used.set(prefix, n + 1);
    return prefix + diskLetters(n);
  });
}

/** 0 -> a, 25 -> z, 26 -> aa (libvirt's virDiskNameToIndex in reverse). */
function diskLetters(index: number): string {
  let s = '';
  let i = index;
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return s;
}

export function newUuid(): string {
  return randomUUID();
}

// ---- clone ---------------------------------------------------------------------

/** What identifies a disk's source in CloneChanges.disks: its path, or POOL/VOLUME for a volume-type disk. */
export function sourceKey(source: DiskSource | undefined): string | undefined {
  if (!source) return undefined;
  if (source.file !== undefined) return source.file;
  if (source.dev !== undefined) return source.dev;
  return source.pool !== undefined && source.volume !== undefined ? `${source.pool}/${source.volume}` : undefined;
}

export interface CloneChanges {
  name: string;
  uuid: string;
  /** sourceKey of a disk -> its new file path; disks that map to null are dropped. */
  disks: Map<string, string | null>;
  /** A fresh MAC for each NIC, in order. */
  macs: string[];
  serialLog?: string;
  /** kvmctl's metadata of the clone (its own seed); the source's is never copied. */
  metadata?: KvmctlMetadata;
}

/**
 * A copy of a domain's inactive XML for a clone: new name, uuid and MACs, new
 * disk sources, and nothing that belongs to the source alone (its nvram file,
 * its kvmctl metadata). Everything else (devices, CPU, features) is kept as is.
 */
export function cloneDomainNode(root: XmlNode, changes: CloneChanges): XmlNode {
  let nic = 0;
  const visit = (node: XmlNode, parent: string | undefined): XmlNode | null => {
    if (parent === 'domain' && node.tag === 'name') return { ...node, text: changes.name };
    if (parent === 'domain' && node.tag === 'uuid') return { ...node, text: changes.uuid };
    if (parent === 'domain' && node.tag === 'metadata') return null;
    if (node.tag === 'domain' && parent === undefined && changes.metadata) {
      const kids = node.children.map((c) => visit(c, node.tag)).filter((c): c is XmlNode => c !== null);
      const at = kids.findIndex((c) => c.tag === 'uuid') + 1;
      return { ...node, children: [...kids.slice(0, at), metadataNode(changes.metadata), ...kids.slice(at)] };
    }
    // libvirt creates a fresh nvram file (from the firmware's template) when none is named.
    if (parent === 'os' && node.tag === 'nvram') return null;
    if (parent === 'devices' && node.tag === 'disk') {
      const old = sourceKey({ file: attr(child(node, 'source'), 'file'), dev: attr(child(node, 'source'), 'dev'), pool: attr(child(node, 'source'), 'pool'), volume: attr(child(node, 'source'), 'volume') });
      if (old !== undefined && changes.disks.has(old)) {
        const next = changes.disks.get(old);
        if (next === null || next === undefined) return null;
        return {
          ...node,
          attrs: { ...node.attrs, type: 'file' },
          children: node.children.map((c) => (c.tag === 'source' ? { ...c, attrs: { file: next } } : c)).filter((c) => c.tag !== 'backingStore'),
        };
      }
    }
    if (parent === 'devices' && node.tag === 'interface') {
      const mac = changes.macs[nic++];
      // Host-side names (vnetN) and PCI addresses are the source's; libvirt assigns new ones.
      const kept = node.children.filter((c) => c.tag !== 'mac' && c.tag !== 'target');
      return { ...node, children: mac === undefined ? kept : [el('mac', { address: mac }), ...kept] };
    }
    if ((parent === 'serial' || parent === 'console') && node.tag === 'log') {
      return changes.serialLog === undefined ? null : { ...node, attrs: { ...node.attrs, file: changes.serialLog } };
    }
    const kids = node.children.map((c) => visit(c, node.tag)).filter((c): c is XmlNode => c !== null);
    return { ...node, children: kids };
  };
  const out = visit(root, undefined);
  if (!out) throw new Error('clone: empty domain');
  return out;
}
