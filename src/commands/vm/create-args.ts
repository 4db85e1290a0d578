/**
 * `vm create` flags -> a checked request. Pure: every mistake a user can make
 * in the flags is a UsageError (exit 2) here, before anything is read or run.
 */
import type { CreateFlags } from './create-options.js';
import { normalizeMac } from '../../validate/mac.js';
import { checkPoolPathSyntax } from '../../storage/pool-path.js';
import { UsageError } from '../../errors.js';
import { ATTACH_FORMATS, TARGET_FORMATS, type TargetFormat } from '../../libvirt/disk-formats.js';
import { DISK_BUSES, GRAPHICS_TYPES, NIC_MODELS, type DiskBus, type GraphicsType, type NicModel } from '../../libvirt/domain-builder.js';
import { validateLibvirtBridgeName } from '../../net/link-name.js';
import { parseVolumeRef, type VolumeRef } from '../../storage/volume-ref.js';
import { parseSize } from '../../units/size.js';
import { countOption } from '../../validate/count.js';
import { checkHostname } from '../../validate/hostname.js';
import { validateName, validateNewName } from '../../validate/names.js';

export type NewDiskFormat = TargetFormat;

export type DiskRequest =
  | { kind: 'new'; sizeBytes: number; pool?: string; format: NewDiskFormat; bus: DiskBus }
  | { kind: 'volume'; ref: VolumeRef; bus: DiskBus; shareable: boolean }
  | { kind: 'path'; path: string; format: string; bus: DiskBus; shareable: boolean; hostPath?: string };

export type NetworkRequest =
  | { type: 'network'; network: string; model: NicModel; mac?: string }
  | { type: 'bridge'; bridge: string; model: NicModel; mac?: string };

export interface CloudInitRequest {
  userDataFile?: string;
  metaDataFile?: string;
  networkConfigFile?: string;
  sshKeyFile?: string;
  /** The guest user the key is for; only recorded, for `vm ssh`. */
  sshUser?: string;
  hostname?: string;
}

/**
 * --image given as something to pull or import first (a catalog name, a URL,
 * a local file) rather than POOL/VOLUME; base.volume is known once it is in the pool.
 */
export interface ImageSource {
  kind: 'catalog' | 'url' | 'file';
  text: string;
  checksum?: string;
}

export interface CreateRequest {
  name: string;
  memoryBytes: number;
  vcpus: number;
  /** --image: the first disk is a thin overlay of this base volume. */
  image?: { base: VolumeRef; sizeBytes?: number; pool?: string; source?: ImageSource };
  disks: DiskRequest[];
  cdrom?: { kind: 'path'; path: string } | { kind: 'volume'; ref: VolumeRef };
  import: boolean;
  uefi: boolean;
  kernel?: { kernel: string; initrd?: string; cmdline?: string };
  networks: NetworkRequest[];
  graphics: GraphicsType;
  cloudInit?: CloudInitRequest;
  virtType?: 'kvm' | 'qemu';
  cpu?: 'host-passthrough' | 'host-model';
  autostart: boolean;
  start: boolean;
  waitIp: boolean;
  /** --wait ready: cloud-init finished too (implies waitIp). */
  waitReady: boolean;
  timeoutSeconds: number;
  printXml: boolean;
  logDir?: string;
}

/** The flags as commander hands them over. */
export type { CreateFlags } from './create-options.js';

const DEFAULT_MEMORY = 1024 ** 3;
/** libvirt's own lower bound is far lower; below this no current distribution boots. */
const MIN_MEMORY = 16 * 1024 ** 2;

/** Guest memory of at least 16 MiB; a bare number below it is bytes, which virt-install users mean as MiB. */
export function checkMemory(text: string, bytes: number): void {
  if (bytes >= MIN_MEMORY) return;
  const digits = /^\s*(\d+)\s*$/.exec(text)?.[1];
  if (digits !== undefined) {
    throw new UsageError(`--memory ${digits}: that is ${digits} bytes (a number without a unit is bytes); at least 16M is needed`, `give a unit; for ${digits} MiB: --memory ${digits}M`);
  }
  throw new UsageError(`--memory ${text}: at least 16M is needed`, 'give the guest more memory, e.g. --memory 512M');
}
const MAX_VCPUS = 4096;

export function parseCreateFlags(name: string, f: CreateFlags): CreateRequest {
  validateNewName('VM', name);
  const memoryBytes = f.memory === undefined ? DEFAULT_MEMORY : parseSize(f.memory, '--memory');
  if (f.memory !== undefined) checkMemory(f.memory, memoryBytes);
  const vcpus = countOption(f.vcpus, '--vcpus', 1, MAX_VCPUS, 1);
  const boot = f.boot === undefined ? { uefi: false } : parseBoot(f.boot);
  const image = f.image === undefined ? undefined : parseImage(f.image);
  const disks = (f.disk ?? []).map(parseDisk);
  const cdrom = f.cdrom === undefined ? undefined : parseCdrom(f.cdrom);
  const networks = parseNetworks(f.network ?? []);
  const graphics = oneOf('--graphics', f.graphics ?? 'none', GRAPHICS_TYPES);
  const virtType = f.virtType === undefined ? undefined : oneOf('--virt-type', f.virtType, ['kvm', 'qemu'] as const);
  const cpu = f.cpu === undefined ? undefined : oneOf('--cpu', f.cpu, ['host-passthrough', 'host-model'] as const);
  if (cpu === 'host-passthrough' && virtType === 'qemu') {
    throw new UsageError('--cpu host-passthrough needs --virt-type kvm: an emulated (qemu) guest cannot use the host CPU', 'leave out --cpu, or use --cpu host-model');
  }
  const importDisk = f.import === true || image !== undefined;
  if (!importDisk && cdrom === undefined && boot.kernel === undefined) {
    throw new UsageError(`VM ${JSON.stringify(name)}: nothing to boot from`, 'give --image POOL/VOL, --import (boot the first --disk), --cdrom ISO or --boot kernel=…');
  }
  if (f.import === true && image === undefined && disks.length === 0) {
    throw new UsageError('--import boots the first disk, but no --disk was given', 'add --disk vol=POOL/VOL or --disk path=FILE');
  }
  const cloudInit = parseCloudInit(f);
  const start = f.start !== false;
  const waitIp = f.wait !== undefined;
  if (waitIp && f.wait !== 'ip' && f.wait !== 'ready') throw new UsageError(`--wait ${JSON.stringify(f.wait)}: expected ip or ready`, 'use --wait ip (an address) or --wait ready (cloud-init finished), or kvmctl vm wait NAME --for running|shutoff');
  const waitReady = f.wait === 'ready';
  const w = `--wait ${f.wait}`;
  if (waitIp && !start) throw new UsageError(`${w} and --no-start contradict each other`, 'leave out one of them');
  if (waitIp && networks.length === 0) throw new UsageError(`${w} with --network none: the VM has no NIC to get an address on`, `add a --network, or leave out ${w}`);
  if (f.printXml && waitIp) throw new UsageError('--print-xml changes nothing, so there is no VM to --wait for', `leave out ${w}`);
  const timeoutSeconds = countOption(f.timeout, '--timeout', 0, 86_400, 300);
  if (f.logDir !== undefined && !f.logDir.startsWith('/')) throw new UsageError(`--log-dir ${JSON.stringify(f.logDir)}: must be an absolute path`, 'give the directory as the libvirt host sees it, e.g. --log-dir /var/log/kvmctl');
  // The serial log is written by the daemon as root: never into a system, shared or key directory.
  if (f.logDir !== undefined) checkPoolPathSyntax('--log-dir', f.logDir);
  return {
    name,
    memoryBytes,
    vcpus,
    image,
    disks,
    cdrom,
    import: importDisk,
    uefi: boot.uefi,
    kernel: boot.kernel,
    networks,
    graphics,
    cloudInit,
    virtType,
    cpu,
    autostart: f.autostart === true,
    start,
    waitIp,
    waitReady,
    timeoutSeconds,
    printXml: f.printXml === true,
    logDir: f.logDir,
  };
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)}: expected ${allowed.join(', ')}`, `e.g. ${flag} ${allowed[0]}`);
  }
  return value as T;
}

/**
 * "key=value,key=value" as the --disk/--network/--boot flags take it. restKey
 * names a key whose value runs to the end (a kernel command line has commas).
 * Bare words (no '=') are returned as flags.
 */
export function parseKeyValues(flag: string, text: string, allowed: string[], restKey?: string): { values: Map<string, string>; words: string[] } {
  const values = new Map<string, string>();
  const words: string[] = [];
  let rest = text;
  while (rest !== '') {
    let part: string;
    if (restKey !== undefined && rest.startsWith(`${restKey}=`)) {
      part = rest;
      rest = '';
    } else {
      const comma = rest.indexOf(',');
      part = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma + 1);
    }
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part === '') throw new UsageError(`${flag} ${JSON.stringify(text)}: empty item`, `write it as ${allowed.map((k) => `${k}=…`).join(',')}`);
      words.push(part);
      continue;
    }
    const key = part.slice(0, eq);
    if (!allowed.includes(key)) {
      throw new UsageError(`${flag} ${JSON.stringify(text)}: unknown key ${JSON.stringify(key)}`, `known keys: ${allowed.join(', ')}`);
    }
    if (values.has(key)) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${key}= given twice`, `give ${key}= once`);
    values.set(key, part.slice(eq + 1));
  }
  return { values, words };
}

function noWords(flag: string, text: string, words: string[]): void {
  if (words.length > 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(words[0])} is not key=value`, `see kvmctl vm create --help for the forms ${flag} takes`);
}

function bus(flag: string, value: string | undefined): DiskBus {
  return value === undefined ? 'virtio' : oneOf(`${flag} bus=`, value, DISK_BUSES);
}

function absolutePath(flag: string, key: string, value: string | undefined): string {
  if (value === undefined || !value.startsWith('/')) {
    throw new UsageError(`${flag} ${key}=${value ?? ''}: must be an absolute path`, 'give the path as the libvirt host sees it, e.g. /var/lib/libvirt/images/disk.qcow2');
  }
  return value;
}

export function parseDisk(text: string): DiskRequest {
  const flag = '--disk';
  const { values, words } = parseKeyValues(flag, text, ['size', 'pool', 'format', 'bus', 'vol', 'path', 'shareable']);
  noWords(flag, text, words);
  const sources = ['size', 'vol', 'path'].filter((k) => values.has(k));
  if (sources.length !== 1) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: give exactly one of size= (a new volume), vol=POOL/VOL or path=FILE`, 'e.g. --disk size=20G or --disk vol=default/data.qcow2');
  }
  const b = bus(flag, values.get('bus'));
  const shareable = oneOf(`${flag} shareable=`, values.get('shareable') ?? 'no', ['yes', 'no'] as const) === 'yes';
  if (values.has('size')) {
    if (values.has('shareable')) throw new UsageError(`${flag} ${JSON.stringify(text)}: shareable= goes with vol= or path= (a disk another VM uses)`, 'leave out shareable=');
    const format = oneOf(`${flag} format=`, values.get('format') ?? 'qcow2', TARGET_FORMATS);
    const pool = values.get('pool');
    return { kind: 'new', sizeBytes: parseSize(values.get('size') ?? '', `${flag} size=`), pool: pool === undefined ? undefined : validateName('pool', pool), format, bus: b };
  }
  for (const k of ['pool', 'size']) {
    if (values.has(k)) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${k}= only goes with size= (a new volume)`, `leave out ${k}=`);
  }
  if (values.has('vol')) {
    if (values.has('format')) throw new UsageError(`${flag} ${JSON.stringify(text)}: format= is read from the volume`, 'leave out format=');
    return { kind: 'volume', ref: parseVolumeRef(values.get('vol') ?? ''), bus: b, shareable };
  }
  const path = absolutePath(flag, 'path', values.get('path'));
  const format = values.get('format') ?? formatFromExtension(path);
  if (format === undefined) {
    // Guessing from the content is how a raw disk holding a qcow2 header gets to read host files.
    throw new UsageError(`${flag} ${JSON.stringify(text)}: say the image format of ${path}`, 'add format=qcow2 or format=raw');
  }
  const checked = oneOf(`${flag} format=`, format, ATTACH_FORMATS);
  if (shareable && checked !== 'raw') throw new UsageError(`${flag} ${JSON.stringify(text)}: only a raw disk can be shared between VMs (qemu keeps image metadata in memory)`, 'add format=raw, or leave out shareable=yes');
  return { kind: 'path', path, format: checked, bus: b, shareable };
}

function formatFromExtension(path: string): string | undefined {
  if (/\.qcow2$/i.test(path)) return 'qcow2';
  if (/\.(raw|img)$/i.test(path)) return 'raw';
  return undefined;
}

/** How --image names its base: an http(s) URL (any scheme, refused later by name), a file path, POOL/VOLUME, or a catalog name. */
function imageSourceKind(head: string): ImageSource['kind'] | 'volume' {
  if (/^[a-z][a-z0-9+.-]*:/i.test(head)) return 'url';
  if (head.startsWith('/') || head.startsWith('./') || head.startsWith('../')) return 'file';
  return head.includes('/') ? 'volume' : 'catalog';
}

function parseImage(text: string): CreateRequest['image'] {
  const flag = '--image';
  const comma = text.indexOf(',');
  const head = comma < 0 ? text : text.slice(0, comma);
  const kind = imageSourceKind(head);
  const { values, words } = parseKeyValues(flag, comma < 0 ? '' : text.slice(comma + 1), kind === 'volume' || kind === 'file' ? ['size', 'pool'] : ['size', 'pool', 'checksum']);
  noWords(flag, text, words);
  const pool = values.get('pool');
  const sizeBytes = values.has('size') ? parseSize(values.get('size') ?? '', `${flag} size=`) : undefined;
  const poolName = pool === undefined ? undefined : validateName('pool', pool);
  if (kind === 'volume') return { base: parseVolumeRef(head), sizeBytes, pool: poolName };
  if (head === '' || /[\u0000-\u001f\u007f]/.test(head)) throw new UsageError(`${flag} ${JSON.stringify(text)}: no image named`, 'give a catalog name (kvmctl image catalog), a URL, a file path or POOL/VOLUME');
  // The base goes to pool= (else "default") once pulled or imported; its volume name is known then.
  return { base: { pool: poolName ?? 'default', volume: '' }, sizeBytes, pool: poolName, source: { kind, text: head, checksum: values.get('checksum') } };
}

function parseCdrom(text: string): NonNullable<CreateRequest['cdrom']> {
  if (text.startsWith('/')) return { kind: 'path', path: text };
  return { kind: 'volume', ref: parseVolumeRef(text) };
}

function parseBoot(text: string): { uefi: boolean; kernel?: CreateRequest['kernel'] } {
  const flag = '--boot';
  const { values, words } = parseKeyValues(flag, text, ['kernel', 'initrd', 'cmdline'], 'cmdline');
  const unknown = words.filter((w) => w !== 'uefi');
  if (unknown.length > 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: unknown item ${JSON.stringify(unknown[0])}`, 'use --boot uefi, or --boot kernel=PATH[,initrd=PATH][,cmdline=…] (cmdline= last)');
  const uefi = words.includes('uefi');
  if (!values.has('kernel')) {
    for (const k of ['initrd', 'cmdline']) {
      if (values.has(k)) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${k}= needs kernel=`, 'add kernel=PATH');
    }
    return { uefi };
  }
  return {
    uefi,
    kernel: {
      kernel: absolutePath(flag, 'kernel', values.get('kernel')),
      initrd: values.has('initrd') ? absolutePath(flag, 'initrd', values.get('initrd')) : undefined,
      cmdline: values.get('cmdline'),
    },
  };
}

function parseNetworks(texts: string[]): NetworkRequest[] {
  if (texts.includes('none')) {
    if (texts.length > 1) throw new UsageError('--network none cannot be combined with other --network options', 'give either --network none or the networks to attach');
    return [];
  }
  if (texts.length === 0) return [{ type: 'network', network: 'default', model: 'virtio' }];
  const macs = new Set<string>();
  return texts.map((text) => {
    const flag = '--network';
    const { values, words } = parseKeyValues(flag, text, ['network', 'bridge', 'model', 'mac']);
    noWords(flag, text, words);
    const model = values.has('model') ? oneOf(`${flag} model=`, values.get('model') ?? '', NIC_MODELS) : 'virtio';
    let mac: string | undefined;
    if (values.has('mac')) {
      mac = normalizeMac(values.get('mac') ?? '');
      if (mac === undefined) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(values.get('mac'))} is not a unicast MAC address`, 'e.g. mac=52:54:00:12:34:56, or leave it out for a random one');
      if (macs.has(mac)) throw new UsageError(`${flag}: MAC ${mac} is given twice`, 'every NIC needs its own MAC');
      macs.add(mac);
    }
    const network = values.get('network');
    const bridge = values.get('bridge');
    if ((network === undefined) === (bridge === undefined)) {
      throw new UsageError(`${flag} ${JSON.stringify(text)}: give exactly one of network=NAME or bridge=BRIDGE`, 'e.g. --network network=default or --network bridge=br0');
    }
    if (network !== undefined) return { type: 'network', network: validateName('network', network), model, mac };
    try {
      validateLibvirtBridgeName(bridge ?? '');
    } catch (e) {
      throw new UsageError(`${flag} bridge=${bridge}: not a Linux interface name libvirt accepts (${(e as Error).message})`, "interface names have 1 to 15 characters: letters, digits, _ . -, not starting with '-'");
    }
    return { type: 'bridge', bridge: bridge ?? '', model, mac };
  });
}

function parseCloudInit(f: CreateFlags): CloudInitRequest | undefined {
  if (f.sshUser !== undefined && f.sshKey === undefined) throw new UsageError('--ssh-user names the user --ssh-key is for: give --ssh-key too', 'e.g. --ssh-key ~/.ssh/id_ed25519.pub --ssh-user debian');
  if (f.cloudInit === undefined && f.sshKey === undefined && f.hostname === undefined) return undefined;
  const req: CloudInitRequest = {};
  if (f.cloudInit !== undefined) {
    const flag = '--cloud-init';
    const { values, words } = parseKeyValues(flag, f.cloudInit, ['user-data', 'meta-data', 'network-config']);
    noWords(flag, f.cloudInit, words);
    // With --ssh-key or --hostname kvmctl writes the user-data; network-config= and meta-data= may come with them.
    if (!values.has('user-data') && f.sshKey === undefined && f.hostname === undefined) {
      throw new UsageError(`${flag} ${JSON.stringify(f.cloudInit)}: user-data=FILE is required (or --ssh-key / --hostname)`, 'e.g. --cloud-init user-data=./user-data.yaml');
    }
    req.userDataFile = values.get('user-data');
    req.metaDataFile = values.get('meta-data');
    req.networkConfigFile = values.get('network-config');
  }
  if (f.sshKey !== undefined) {
    if (req.userDataFile !== undefined) throw new UsageError('--ssh-key is a short form of user-data; with --cloud-init user-data=FILE put the key in that file', 'add ssh_authorized_keys to your user-data, or leave out --cloud-init');
    req.sshKeyFile = f.sshKey;
    if (f.sshUser !== undefined) req.sshUser = checkSshUser(f.sshUser, '--ssh-user');
  }
  if (f.hostname !== undefined) {
    checkHostname('--hostname', f.hostname);
    if (req.metaDataFile !== undefined) throw new UsageError('--hostname sets local-hostname in meta-data; with --cloud-init meta-data=FILE put it in that file', 'leave out one of them');
    req.hostname = f.hostname;
  }
  return req;
}

/** A login name as useradd accepts it; never an option or a user@host. */
export function checkSshUser(user: string, flag: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(user)) {
    throw new UsageError(`${flag} ${JSON.stringify(user)}: not a user name`, 'use letters, digits, _ . - (at most 32, not starting with - or a digit), e.g. debian');
  }
  return user;
}
