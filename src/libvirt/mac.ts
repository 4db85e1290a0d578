/** MAC addresses kvmctl picks for new NICs (`vm create`, `vm clone`), never one a defined domain already has. */
import { randomBytes } from 'node:crypto';
import { KvmctlError } from '../errors.js';
import type { DomainDefinition } from './domain-xml.js';

/** QEMU's locally administered prefix, the one libvirt itself picks from. */
const QEMU_PREFIX = ['52', '54', '00'];

/** Draws before giving up: 2^24 addresses, so only a nearly full prefix (or a broken source) gets here. */
const MAX_DRAWS = 1000;

/** The MACs (lower case) of every NIC of these domains. */
export function macsInUse(domains: Iterable<Pick<DomainDefinition, 'interfaces'>>): Set<string> {
  const used = new Set<string>();
  for (const d of domains) for (const nic of d.interfaces) if (nic.mac) used.add(nic.mac.toLowerCase());
  return used;
}

/**
 * A random MAC in 52:54:00:xx:xx:xx that is not in `used` (lower case). Two NICs
 * with one MAC on a bridge or network lose each other's frames, and libvirt does
 * not refuse a define that duplicates another domain's MAC. Callers picking
 * several add each result to the set before the next call.
 */
export function randomMac(used: ReadonlySet<string>, random: (size: number) => Buffer = randomBytes): string {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const mac = [...QEMU_PREFIX, ...[...random(3).subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
    if (!used.has(mac)) return mac;
  }
  throw new KvmctlError(`could not pick a free MAC address: ${MAX_DRAWS} random draws in 52:54:00:xx:xx:xx were all in use by defined VMs`, 'give the NIC an address yourself: --network …,mac=52:54:00:…');
}

/** `count` distinct MACs, none in `used`. */
export function randomMacs(count: number, used: ReadonlySet<string>, random?: (size: number) => Buffer): string[] {
  const taken = new Set(used);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const mac = randomMac(taken, random);
    taken.add(mac);
    out.push(mac);
  }
  return out;
}
