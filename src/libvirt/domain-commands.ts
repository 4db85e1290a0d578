/**
 * virsh argv for domains (VMs) and the parsers of their text output. Names
 * travel as `--domain NAME`, a separate argv element, so a name such as `a;b`
 * or `-x` is only ever a name; a keyed batch (ctx.virsh.batch) quotes the
 * words of each call for virsh's own parser.
 */
import { read, write } from './virsh-client.js';
import { listAutostartNamesCall } from './list-calls.js';
import { attr, child, children, decodeXml, textOf } from './xml-codec.js';

export type AddressSource = 'lease' | 'agent' | 'arp';
export const ADDRESS_SOURCES: readonly AddressSource[] = ['lease', 'agent', 'arp'];

/** Which definition a change applies to: the running domain, the persistent one, or both. */
export interface ChangeScope {
  live: boolean;
  config: boolean;
}

function scopeFlags(scope: ChangeScope): string[] {
  return [...(scope.live ? ['--live'] : []), ...(scope.config ? ['--config'] : [])];
}

const vm = (name: string) => ({ kind: 'vm' as const, name });

/** Domain calls for the virsh client (ctx.virsh.run(domainCalls.start(name))): the one builder of domain argv. */
export const domainCalls = {
  dumpxml: (name: string, inactive = false) => read(['dumpxml', '--domain', name, ...(inactive ? ['--inactive'] : [])], vm(name)),
  dominfo: (name: string) => read(['dominfo', '--domain', name], vm(name)),
  domstate: (name: string) => read(['domstate', '--domain', name, '--reason'], vm(name)),
  /** `--` ends the options: domstats takes domain names as positional words. */
  domstatsOne: (name: string, groups: string[]) => read(['domstats', '--raw', ...groups.map((g) => `--${g}`), '--', name], vm(name)),
  snapshotList: (name: string) => read(['snapshot-list', '--domain', name, '--parent'], vm(name)),
  snapshotCurrent: (name: string) => read(['snapshot-current', '--domain', name, '--name'], vm(name)),
  domifaddr: (name: string, source: AddressSource) => read(['domifaddr', '--domain', name, '--source', source], vm(name)),
  domiflist: (name: string) => read(['domiflist', '--domain', name], vm(name)),
  domcapabilities: (virtType: string, arch?: string, machine?: string) => read(['domcapabilities', '--virttype', virtType, ...(arch ? ['--arch', arch] : []), ...(machine ? ['--machine', machine] : [])]),
  capabilities: () => read(['capabilities']),
  /** Every domain's name, running or not. */
  listAllNames: () => read(['list', '--all', '--name']),
  /** The names of the domains libvirt starts with itself. */
  listAutostartNames: listAutostartNamesCall,

  /** The XML travels on stdin, never through a temporary file. */
  define: (name: string, xml: string) => write(['define', '--file', '/dev/stdin'], vm(name), xml),
  /**
   * Removes the definition and what libvirt keeps beside it: the UEFI nvram
   * file, snapshot and checkpoint metadata, a managed-save image. Without
   * these flags libvirt refuses to undefine a domain that has any of them.
   */
  undefine: (name: string) => write(['undefine', '--domain', name, '--nvram', '--snapshots-metadata', '--checkpoints-metadata', '--managed-save'], vm(name)),
  start: (name: string) => write(['start', '--domain', name], vm(name)),
  /** Asks the guest to power off through ACPI; returns at once. */
  shutdown: (name: string) => write(['shutdown', '--domain', name, '--mode', 'acpi'], vm(name)),
  /** Immediate power-off; disks and definition stay. */
  destroy: (name: string) => write(['destroy', '--domain', name], vm(name)),
  reboot: (name: string) => write(['reboot', '--domain', name, '--mode', 'acpi'], vm(name)),
  suspend: (name: string) => write(['suspend', '--domain', name], vm(name)),
  resume: (name: string) => write(['resume', '--domain', name], vm(name)),
  autostart: (name: string, enable: boolean) => write(['autostart', '--domain', name, ...(enable ? [] : ['--disable'])], vm(name)),
  /** --maximum changes the vCPU ceiling (config only); without it, the vCPUs in use. */
  setvcpus: (name: string, count: number, scope: ChangeScope, maximum = false) =>
    write(['setvcpus', '--domain', name, '--count', String(count), ...(maximum ? ['--maximum'] : []), ...scopeFlags(scope)], vm(name)),
  /** Current memory (the balloon target), in KiB. */
  setmem: (name: string, bytes: number, scope: ChangeScope) => write(['setmem', '--domain', name, '--size', `${Math.ceil(bytes / 1024)}KiB`, ...scopeFlags(scope)], vm(name)),
  /** Maximum memory; libvirt allows changing it only in the persistent definition. */
  setmaxmem: (name: string, bytes: number) => write(['setmaxmem', '--domain', name, '--size', `${Math.ceil(bytes / 1024)}KiB`, '--config'], vm(name)),
  snapshotCreate: (name: string, snapshot: string, description?: string) =>
    write(['snapshot-create-as', '--domain', name, '--name', snapshot, ...(description !== undefined ? ['--description', description] : [])], vm(name)),
  snapshotRevert: (name: string, snapshot: string) => write(['snapshot-revert', '--domain', name, '--snapshotname', snapshot], vm(name)),
  snapshotDelete: (name: string, snapshot: string) => write(['snapshot-delete', '--domain', name, '--snapshotname', snapshot], vm(name)),
  /** Attaches the terminal to the serial console; run with inherited stdio. */
  console: (name: string) => read(['console', '--domain', name], vm(name)),
};

// ---- parsers -------------------------------------------------------------------

export interface DomInfo {
  /** libvirt's id of the current run; a new one each start (none while shut off: virsh prints "-"). */
  id?: number;
  uuid?: string;
  state?: string;
  persistent?: boolean;
  autostart?: boolean;
  maxMemoryBytes?: number;
  usedMemoryBytes?: number;
  vcpus?: number;
}

/** `virsh dominfo` ("Name:  value" lines). */
export function parseDominfo(text: string): DomInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z() ]+):\s*(.*)$/.exec(line);
    if (m) fields.set((m[1] ?? '').trim(), (m[2] ?? '').trim());
  }
  const kib = (v: string | undefined) => {
    const m = /^(\d+) KiB$/.exec(v ?? '');
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const yes = (v: string | undefined) => (v === undefined ? undefined : v === 'yes' || v === 'enable');
  const cpus = Number(fields.get('CPU(s)'));
  const id = fields.get('Id');
  return {
    id: id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined,
    uuid: fields.get('UUID'),
    state: fields.get('State'),
    persistent: yes(fields.get('Persistent')),
    autostart: yes(fields.get('Autostart')),
    maxMemoryBytes: kib(fields.get('Max memory')),
    usedMemoryBytes: kib(fields.get('Used memory')),
    vcpus: Number.isInteger(cpus) && cpus > 0 ? cpus : undefined,
  };
}

export interface DomainStateReason {
  /** running, shut off, paused, … as virsh words them; see stateKey for the short form. */
  state: string;
  reason?: string;
}

/** `virsh domstate --reason`: "running (booted)". */
export function parseDomstate(text: string): DomainStateReason {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const m = /^(.*?)\s*\((.*)\)$/.exec(line);
  return m ? { state: m[1] ?? '', reason: m[2] } : { state: line };
}

/** virsh's words for states ("shut off", "in shutdown") as one word, matching domstats' names. */
export function stateKey(state: string): string {
  switch (state) {
    case 'shut off':
      return 'shutoff';
    case 'in shutdown':
      return 'shutdown';
    case 'pmsuspended':
    case 'pm suspended':
      return 'pmsuspended';
    case 'idle':
      return 'blocked';
    default:
      return state;
  }
}

export interface InterfaceAddress {
  /** Host-side device (vnet0) for lease/arp, guest-side name (eth0) for agent. */
  interface: string;
  mac: string;
  protocol: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

/**
 * `virsh domifaddr`: one line per address; further addresses of the same
 * interface repeat "-" in the name and MAC columns.
 */
export function parseDomifaddr(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  let last: { name: string; mac: string } | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+(ipv4|ipv6)\s+([^\s/]+)\/(\d+)\s*$/.exec(line);
    if (!m) continue;
    const name = m[1] === '-' && last ? last.name : (m[1] ?? '');
    const mac = m[2] === '-' && last ? last.mac : (m[2] ?? '').toLowerCase();
    last = { name, mac };
    out.push({ interface: name, mac, protocol: m[3] as InterfaceAddress['protocol'], address: m[4] ?? '', prefix: Number(m[5]) });
  }
  return out;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/**
 * The MAC addresses in `virsh domiflist` (a header, a rule, then one row per NIC
 * ending in its MAC), lower case. The MAC is the last word of a row, whatever
 * the source column holds.
 */
export function parseDomiflistMacs(text: string): string[] {
  const macs: string[] = [];
  for (const line of text.split('\n')) {
    const last = line.trimEnd().split(/\s+/).pop() ?? '';
    if (MAC.test(last)) macs.push(last.toLowerCase());
  }
  return macs;
}

export interface SnapshotEntry {
  name: string;
  /** ISO 8601. */
  createdAt: string;
  /** The domain's state when the snapshot was taken: running, shutoff, … */
  state: string;
  parent?: string;
}

const SNAPSHOT_LINE = /^\s(.+?)\s+(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)\s+(\S+)(?:\s+(.*?))?\s*$/;

/** `virsh snapshot-list --parent`: names may hold spaces; the time column has a fixed shape. */
export function parseSnapshotList(text: string): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  for (const line of text.split('\n')) {
    const m = SNAPSHOT_LINE.exec(line);
    if (!m) continue;
    const createdAt = new Date(`${m[2]}T${m[3]}${m[4]}:${m[5]}`).toISOString();
    out.push({ name: m[1] ?? '', createdAt, state: m[6] ?? '', ...(m[7] ? { parent: m[7] } : {}) });
  }
  return out;
}

export interface HostMemory {
  totalBytes?: number;
  /** free + buffers + cached: what the kernel can hand to a new guest without swapping. */
  availableBytes?: number;
}

/** Calls about the host itself: its CPUs (nodeinfo) and its free memory (nodememstats). */
export const nodeCalls = {
  nodeinfo: () => read(['nodeinfo']),
  nodememstats: () => read(['nodememstats']),
};

/** `virsh nodememstats` ("free   :   22765768 KiB"). */
export function parseNodememstats(text: string): HostMemory {
  const get = (key: string) => {
    const m = new RegExp(`^${key}\\s*:\\s*(\\d+) KiB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const free = get('free');
  return {
    totalBytes: get('total'),
    availableBytes: free === undefined ? undefined : free + (get('buffers') ?? 0) + (get('cached') ?? 0),
  };
}

/** Firmware kinds `virsh domcapabilities` offers (<os><enum name='firmware'>): "efi" when OVMF is installed. */
export async function firmwareValues(domcapsXml: string): Promise<string[]> {
  const os = child(await decodeXml(domcapsXml), 'os');
  const firmware = children(os, 'enum').find((e) => attr(e, 'name') === 'firmware');
  return children(firmware, 'value').map((v) => textOf(v) ?? '');
}
