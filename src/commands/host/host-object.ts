/**
 * A host of the inventory as -o json prints it (schemas/host-list.schema.json,
 * host-add, host-remove): every key present, null for what is not set or was
 * not asked.
 */
import type { InventoryHost } from '../../inventory/hosts-file.js';

export function inventoryHostObject(h: InventoryHost) {
  return { name: h.name, uri: h.uri, groups: h.groups, labels: h.labels, migrationAddress: h.migrationAddress ?? null };
}

/** What host list learnt by asking the host; all null with --no-probe. */
export interface HostProbe {
  answers?: boolean;
  error?: string;
  libvirtVersion?: string;
  hypervisor?: string;
  cpuUsedPercent?: number;
  memoryTotalBytes?: number;
  memoryFreeBytes?: number;
}

export function hostStatusObject(h: InventoryHost & HostProbe) {
  return {
    ...inventoryHostObject(h),
    answers: h.answers ?? null,
    error: h.error ?? null,
    libvirtVersion: h.libvirtVersion ?? null,
    hypervisor: h.hypervisor ?? null,
    cpuUsedPercent: h.cpuUsedPercent ?? null,
    memoryTotalBytes: h.memoryTotalBytes ?? null,
    memoryFreeBytes: h.memoryFreeBytes ?? null,
  };
}
