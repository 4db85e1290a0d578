/**
 * Overcommit warnings for `vm create` and `vm set`: more vCPUs than the host
 * has CPUs, or more memory than the host has free, is allowed (libvirt and
 * the kernel cope) but said out loud.
 */
import { parseNodeinfo } from '../../libvirt/capabilities.js';
import { nodeCalls, parseNodememstats } from '../../libvirt/domain-commands.js';
import { formatBytes } from '../../units/size.js';

export interface HostCapacity {
  cpus?: number;
  /** Free + buffers + cached on the host, bytes. */
  availableMemoryBytes?: number;
}

/** The reads of the host's capacity, keyed for a batch (`virsh.batch({ ...HOST_CAPACITY_READS, … })`); parse them with hostCapacityOf. */
export const HOST_CAPACITY_READS = { nodeinfo: nodeCalls.nodeinfo(), nodememstats: nodeCalls.nodememstats() };

export function hostCapacityOf(nodeinfoOut: string, nodememstatsOut: string): HostCapacity {
  return { cpus: parseNodeinfo(nodeinfoOut).cpus, availableMemoryBytes: parseNodememstats(nodememstatsOut).availableBytes };
}

/**
 * @param memoryInUseBytes memory the VM already holds on the host (a running VM
 * being resized), which is not extra demand.
 */
export function overcommitWarnings(host: HostCapacity, vcpus: number | undefined, memoryBytes: number | undefined, memoryInUseBytes = 0): string[] {
  const warnings: string[] = [];
  if (vcpus !== undefined && host.cpus !== undefined && vcpus > host.cpus) {
    warnings.push(`${vcpus} vCPUs is more than the host's ${host.cpus} CPUs (overcommitted: the vCPUs share them and run slower)`);
  }
  if (memoryBytes !== undefined && host.availableMemoryBytes !== undefined && memoryBytes - memoryInUseBytes > host.availableMemoryBytes) {
    warnings.push(
      `${formatBytes(memoryBytes)} of memory is more than the host has free (${formatBytes(host.availableMemoryBytes)}): the guest may be swapped or killed when it uses it`,
    );
  }
  return warnings;
}
