/**
 * The host reports of several hosts (-H) put together: a VM in the middle of a
 * live migration has a qemu on two hosts (the target's paused for the migration,
 * libvirt's reason "migrating"). It is counted once, on the host it comes from,
 * where it still runs until the switch-over (as `vm list -H` lists it there);
 * the host it goes to lists it as incoming and leaves it out of its running and
 * defined counts.
 */
import { capacityOf, isActive, type HostFacts, type IncomingVm } from './facts.js';

/** One host's facts, by its inventory name (the shape fan-out's FleetRead.combine is given). */
export interface HostReport {
  host: string;
  value: HostFacts;
}

/** Replaces the capacity of each report that holds an incoming VM; the others are left as they are. */
export function countMigrationsOnce(reports: HostReport[]): void {
  const reachable = reports.filter((r) => r.value.libvirt.reachable);
  const migrating = new Set(reachable.flatMap((r) => r.value.domains.filter((d) => d.migrating && isActive(d)).map((d) => d.name)));
  if (migrating.size === 0) return;
  const incoming = new Map<HostReport, IncomingVm[]>();
  for (const name of migrating) {
    const places = reachable.flatMap((r) => r.value.domains.filter((d) => d.name === name && isActive(d)).map((d) => ({ r, d })));
    if (places.length < 2) continue;
    // At the switch-over both are paused for it: the first host named keeps it, as vm list -H does.
    const from = places.find((p) => !p.d.migrating) ?? places[0];
    if (!from) continue;
    for (const p of places) {
      if (p === from) continue;
      const list = incoming.get(p.r) ?? [];
      list.push({ name, from: from.r.host, vcpus: p.d.vcpus, memoryBytes: p.d.memoryBytes });
      incoming.set(p.r, list);
    }
  }
  for (const [r, list] of incoming) {
    const c = r.value.capacity;
    r.value = { ...r.value, capacity: capacityOf(r.value.domains, c.hostCpus, c.hostMemoryBytes, list) };
  }
}
