/** Parsers for `virsh version --daemon`, `virsh capabilities` and `virsh nodeinfo`. */
import { UsageError } from '../errors.js';
import { attr, child, children, decodeXml, path, textOf } from './xml-codec.js';
import { read } from './virsh-client.js';

/** Calls about the host itself (no subject: a failure is the daemon's), for the virsh client. */
export const hostCalls = {
  version: () => read(['version', '--daemon']),
  nodeinfo: () => read(['nodeinfo']),
  nodeCpuPercent: () => read(['nodecpustats', '--percent']),
  nodeMemStats: () => read(['nodememstats']),
  /** Every domain's state, vCPUs, balloon and interfaces, in one call; --nowait: a domain busy with a job (a migration's target) does not hold the report. */
  usage: () => read(['domstats', '--raw', '--state', '--vcpu', '--balloon', '--interface', '--nowait']),
};

export interface LibvirtVersions {
  library?: string;
  api?: string;
  hypervisor?: string;
  hypervisorName?: string;
  daemon?: string;
}

export function parseVersion(text: string): LibvirtVersions {
  const out: LibvirtVersions = {};
  for (const line of text.split('\n')) {
    const m = /^(Compiled against library|Using library|Using API|Running hypervisor|Running against daemon):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const value = m[2] ?? '';
    const version = /(\d+\.\d+(\.\d+)?)\s*$/.exec(value)?.[1];
    switch (m[1]) {
      case 'Using library': out.library = version; break;
      case 'Using API': out.api = value.replace(/\s*\d+\.\d+(\.\d+)?$/, '') || undefined; break;
      case 'Running hypervisor': out.hypervisor = version; out.hypervisorName = value.replace(/\s*\d+\.\d+(\.\d+)?$/, '') || undefined; break;
      case 'Running against daemon': out.daemon = version; break;
    }
  }
  return out;
}

export interface GuestCapability {
  osType: string;
  arch: string;
  emulator?: string;
  /** Domain types the hypervisor offers for this arch: qemu (TCG), kvm. */
  domainTypes: string[];
}

export interface Capabilities {
  hostUuid?: string;
  hostArch?: string;
  hostCpuModel?: string;
  hostCpuVendor?: string;
  /** CPU features the host has beyond its model (vmx/svm appear here when present). */
  hostCpuFeatures: string[];
  guests: GuestCapability[];
}

export async function parseCapabilities(xml: string): Promise<Capabilities> {
  const root = await decodeXml(xml);
  const cpu = path(root, 'host', 'cpu');
  return {
    hostUuid: textOf(path(root, 'host', 'uuid')),
    hostArch: textOf(child(cpu, 'arch')),
    hostCpuModel: textOf(child(cpu, 'model')),
    hostCpuVendor: textOf(child(cpu, 'vendor')),
    hostCpuFeatures: children(cpu, 'feature').map((f) => attr(f, 'name') ?? '').filter(Boolean),
    guests: children(root, 'guest').map((g) => {
      const arch = child(g, 'arch');
      return {
        osType: textOf(child(g, 'os_type')) ?? '',
        arch: attr(arch, 'name') ?? '',
        emulator: textOf(child(arch, 'emulator')),
        domainTypes: children(arch, 'domain').map((d) => attr(d, 'type') ?? '').filter(Boolean),
      };
    }),
  };
}

/** Domain types offered for the host's own architecture (or any, if unknown). */
export function offeredDomainTypes(caps: Capabilities): string[] {
  const guests = caps.guests.filter((g) => g.osType === 'hvm' && (caps.hostArch === undefined || g.arch === caps.hostArch));
  return [...new Set(guests.flatMap((g) => g.domainTypes))];
}

export interface NodeInfo {
  cpuModel?: string;
  cpus?: number;
  memoryBytes?: number;
}

export function parseNodeinfo(text: string): NodeInfo {
  const get = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const mem = /^(\d+)\s*KiB$/.exec(get('Memory size') ?? '');
  const cpus = Number(get('CPU\\(s\\)'));
  return {
    cpuModel: get('CPU model'),
    cpus: Number.isFinite(cpus) && cpus > 0 ? cpus : undefined,
    memoryBytes: mem ? Number(mem[1]) * 1024 : undefined,
  };
}

/**
 * From `virsh domcapabilities --virttype kvm`: the CPU features of the host-model
 * CPU a KVM guest would get. vmx/svm there means guests may nest virtualization.
 * Empty when the text is empty (libvirt offers no kvm domains).
 */
export async function parseHostModelFeatures(xml: string): Promise<string[]> {
  if (xml.trim() === '') return [];
  const root = await decodeXml(xml);
  const mode = children(child(root, 'cpu'), 'mode').find((m) => attr(m, 'name') === 'host-model');
  return children(mode, 'feature')
    .filter((f) => attr(f, 'policy') !== 'disable')
    .map((f) => attr(f, 'name') ?? '')
    .filter(Boolean);
}

/** What `virsh domcapabilities` allows a domain of its type, arch and machine: at most `max` vCPUs (<vcpu max='N'/>). */
export interface VcpuLimit {
  max: number;
  domain?: string;
  arch?: string;
  machine?: string;
}

/** The vCPU limit of a `virsh domcapabilities` answer; undefined when the text is empty (that type is not offered) or names none. */
export async function parseVcpuLimit(xml: string): Promise<VcpuLimit | undefined> {
  if (xml.trim() === '') return undefined;
  const root = await decodeXml(xml);
  const max = Number(attr(child(root, 'vcpu'), 'max'));
  if (!Number.isInteger(max) || max < 1) return undefined;
  return { max, domain: textOf(child(root, 'domain')), arch: textOf(child(root, 'arch')), machine: textOf(child(root, 'machine')) };
}

/** The refusal of a vCPU count above the host's limit for VM `name` (exit 2, before anything changes), or nothing. */
export function vcpuLimitError(flag: string, vcpus: number, limit: VcpuLimit | undefined, name: string): UsageError | undefined {
  if (limit === undefined || vcpus <= limit.max) return undefined;
  const what = [limit.domain, limit.arch, limit.machine].filter(Boolean).join(' ');
  return new UsageError(
    `${flag} ${vcpus} for VM ${JSON.stringify(name)}: this host allows at most ${limit.max} vCPUs for a ${what ? `${what} ` : ''}guest (libvirt's domain capabilities)`,
    `give ${flag} ${limit.max} or fewer`,
    { object: { kind: 'vm', name } },
  );
}

/** `virsh nodecpustats --percent`: the CPU time used over libvirt's one-second sample. */
export function parseNodeCpuPercent(text: string): number | undefined {
  const m = /^usage:\s*([\d.]+)%/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** `virsh nodememstats`: total and free memory in bytes. */
export function parseNodeMemStats(text: string): { totalBytes?: number; freeBytes?: number } {
  const get = (key: string) => {
    const m = new RegExp(`^${key}\\s*:\\s*(\\d+) KiB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  return { totalBytes: get('total'), freeBytes: get('free') };
}
