/**
 * Backing chains as the host has them, wherever their files are: a VM's disk
 * may be an overlay outside every pool whose base is a pool volume. libvirt
 * reports the chain only for running VMs, so kvmctl reads the qcow2 headers
 * itself (no subprocess, and only of files declared qcow2, by the VM's disk
 * or by the backing-format field of the header above: a raw disk's bytes are
 * the guest's and mean nothing).
 */
import { posix } from 'node:path';
import { diskPath } from '../libvirt/domain-xml.js';
import type { DomainRecord } from '../libvirt/domains.js';
import { HEADER_BYTES, qcow2BackingFormat, sniffImage } from './image-header.js';
import type { StorageFiles } from './local-files.js';

/** Deeper than any chain kvmctl makes; stops a header loop. */
const MAX_DEPTH = 16;

export interface ChainUse {
  vm: string;
  /** The VM's own disk whose chain holds the file. */
  disk: string;
}

/** For every file below a VM disk in its backing chain: which VMs' disks stand on it. */
export async function backingChainUses(domains: DomainRecord[], files: StorageFiles): Promise<Map<string, ChainUse[]>> {
  const uses = new Map<string, ChainUse[]>();
  const add = (path: string, use: ChainUse) => uses.set(path, [...(uses.get(path) ?? []), use]);
  for (const d of domains) {
    for (const disk of d.definition.disks) {
      const top = diskPath(disk);
      if (top === undefined || disk.device !== 'disk') continue;
      if (disk.backingFile !== undefined) add(disk.backingFile, { vm: d.name, disk: top });
      if (disk.driver?.type !== 'qcow2') continue;
      let current = top;
      const seen = new Set([top]);
      for (let depth = 0; depth < MAX_DEPTH; depth++) {
        const header = await files.header(current, HEADER_BYTES).catch(() => undefined);
        if (!header) break;
        const facts = sniffImage(header);
        const ref = facts.format === 'qcow2' ? facts.references.find((r) => r.startsWith('backing file ')) : undefined;
        if (ref === undefined) break;
        const next = posix.resolve(posix.dirname(current), ref.slice('backing file '.length));
        if (seen.has(next)) break;
        seen.add(next);
        add(next, { vm: d.name, disk: top });
        // A backing file declared raw (or anything but qcow2) is data, as QEMU reads it: its bytes are never taken for a header.
        const declared = qcow2BackingFormat(header);
        if (declared !== undefined && declared !== 'qcow2') break;
        current = next;
      }
    }
  }
  return uses;
}

export function describeChainUses(uses: ChainUse[]): string {
  return [...new Set(uses.map((u) => `VM ${u.vm} (disk ${u.disk})`))].join(', ');
}
