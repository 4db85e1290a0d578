/**
 * The host report as `kvmctl host -o json` prints it (schemas/host.schema.json):
 * every key present, null for what could not be read, states lower case,
 * addresses as address objects. The one place that maps HostFacts to JSON.
 */
import type { HostFacts } from './facts.js';

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** "10.0.0.1/24" (ip -j's local/prefixlen, as the facts keep it) as an address object read from the kernel. */
export function kernelAddress(text: string): { address: string; prefix: number | null; mac: null; source: 'kernel' } {
  const slash = text.lastIndexOf('/');
  const prefix = slash < 0 ? NaN : Number(text.slice(slash + 1));
  return { address: slash < 0 ? text : text.slice(0, slash), prefix: Number.isInteger(prefix) ? prefix : null, mac: null, source: 'kernel' };
}

/** iptables' --dport (8080, or 8000:8010) as a port range. */
export function portRange(text: string | undefined): { first: number; last: number } | null {
  const m = text === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) return null;
  return { first: Number(m[1]), last: Number(m[2] ?? m[1]) };
}

export function hostObject(f: HostFacts) {
  const v = f.virtualization;
  const l = f.libvirt;
  const c = f.capacity;
  return {
    uri: f.uri,
    access: { kind: f.access.kind, target: orNull(f.access.target), reason: orNull(f.access.reason) },
    virtualization: {
      source: v.source,
      cpuModel: orNull(v.cpuModel),
      cpuFlag: orNull(v.cpuFlag),
      devKvmPresent: orNull(v.devKvmPresent),
      devKvmAccessible: orNull(v.devKvmAccessible),
      libvirtOffersKvm: orNull(v.libvirtOffersKvm),
      kvmModules: v.kvmModules,
      nested: orNull(v.nested),
      kvmUsable: v.kvmUsable,
      reason: v.reason,
    },
    libvirt: {
      uri: l.uri,
      reachable: l.reachable,
      error: orNull(l.error),
      libraryVersion: orNull(l.libraryVersion),
      daemonVersion: orNull(l.daemonVersion),
      hypervisor: orNull(l.hypervisor),
      domainTypes: l.domainTypes,
    },
    capacity: {
      hostCpus: orNull(c.hostCpus),
      hostMemoryBytes: orNull(c.hostMemoryBytes),
      running: c.running,
      defined: c.defined,
      incoming: c.incoming.map((v) => ({ name: v.name, from: v.from, vcpus: v.vcpus, memoryBytes: v.memoryBytes })),
      cpuOvercommit: { running: orNull(c.cpuOvercommit.running), defined: orNull(c.cpuOvercommit.defined) },
      memoryOvercommit: { running: orNull(c.memoryOvercommit.running), defined: orNull(c.memoryOvercommit.defined) },
    },
    bridges: f.bridges.map((b) => ({
      name: b.name,
      state: b.state.toLowerCase(),
      mtu: b.mtu,
      stp: b.stp,
      addresses: b.addresses.map(kernelAddress),
      ports: b.ports.map((p) => ({ name: p.name, vm: orNull(p.vm) })),
    })),
    bridgesError: orNull(f.bridgesError),
    nat: {
      ipForward: orNull(f.nat.ipForward),
      forwardPolicy: orNull(f.nat.forwardPolicy),
      bridgeNfCallIptables: orNull(f.nat.bridgeNfCallIptables),
      rules: f.nat.rules.map((r) => ({
        chain: r.chain,
        target: r.target,
        source: orNull(r.source),
        destination: orNull(r.destination),
        outIface: orNull(r.outIface),
        inIface: orNull(r.inIface),
        protocol: r.protocol === undefined ? null : r.protocol.toLowerCase(),
        dport: portRange(r.dport),
        to: orNull(r.to),
        owner: r.owner,
        comment: orNull(r.comment),
        spec: r.spec,
      })),
      error: orNull(f.nat.error),
    },
    networks: f.networks.map((n) => ({
      name: n.name,
      active: n.active,
      autostart: n.autostart,
      persistent: n.persistent,
      bridge: orNull(n.bridge),
      mode: n.mode,
      subnet: orNull(n.subnet),
      dhcpRange: orNull(n.dhcpRange),
    })),
    pools: f.pools,
    tools: f.tools.map((t) => ({ name: t.name, path: orNull(t.path) })),
  };
}
