/**
 * The domain XML `vm create` defines: specs (disks, NICs, boot), the vocabulary
 * of buses, NIC models and graphics, and guest device names.
 */
import { randomUUID } from 'node:crypto';
import { metadataNode, type KvmctlMetadata } from './domain-metadata.js';
import { el, type XmlNode } from './xml-codec.js';

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
