import { Command } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import type { Section } from '../../output/output.js';
import { formatBytes } from '../../units/size.js';
import { gatherHostFacts, type HostFacts } from '../../host/facts.js';
import { hostObject } from '../../host/facts-json.js';
import { bridgeColumns, natColumns, networkColumns } from '../../host/fact-columns.js';
import { unreachableError } from '../../libvirt/virsh.js';
import { RefusedError } from '../../errors.js';
import { countMigrationsOnce } from '../../host/fleet.js';
import type { FleetRead } from '../../fan-out.js';

export async function runHostReport(ctx: Context): Promise<void> {
  await printHostReport(ctx, await gatherHostFacts(ctx));
}

/** With -H: every host read first, so that a VM migrating between two of them is counted once (host/fleet.ts). */
export const fleetHostReport: FleetRead<HostFacts> = {
  read: gatherHostFacts,
  combine: countMigrationsOnce,
  print: printHostReport,
};

export async function printHostReport(ctx: Context, facts: HostFacts): Promise<void> {
  if (ctx.out.json) ctx.out.printJson(hostObject(facts));
  else ctx.out.sections(hostSections(facts));
  // The report is printed either way; a daemon that does not answer is still a failed precondition.
  if (!facts.libvirt.reachable) {
    throw new RefusedError(`host: ${facts.libvirt.error ?? `cannot reach libvirt at ${facts.uri}`}`, unreachableError(facts.uri, '').hint);
  }
}

function accessText(a: HostFacts['access']): string {
  if (a.kind === 'ssh') return `ssh ${a.target ?? ''} (bridges, NAT and sysctls are read there)`;
  if (a.kind === 'none') return `none: ${a.reason ?? ''}`;
  return 'this machine';
}

type Pair = { key: string; value: string | number | boolean | undefined };

const pairColumns = [
  { header: 'FACT', value: (p: Pair) => p.key },
  { header: 'VALUE', value: (p: Pair) => p.value },
];

const yesNo = (v: boolean | undefined) => (v === undefined ? 'unknown' : v ? 'yes' : 'no');
const ratio = (v: number | undefined) => (v === undefined ? undefined : `${v.toFixed(2)}x`);

export function hostSections(f: HostFacts): Section<any>[] {
  const v = f.virtualization;
  const c = f.capacity;
  const virtualization: Pair[] = [
    { key: 'facts from', value: v.source === 'libvirt' ? "the host's libvirt (capabilities, domain capabilities, node info)" : 'this machine (/proc, /sys, /dev)' },
    { key: 'CPU model', value: v.cpuModel },
    { key: 'vmx/svm flag', value: v.cpuFlag ?? 'none' },
    { key: '/dev/kvm present', value: yesNo(v.devKvmPresent) },
    { key: '/dev/kvm accessible', value: yesNo(v.devKvmAccessible) },
    ...(v.source === 'libvirt'
      ? [{ key: 'kvm domains offered', value: yesNo(v.libvirtOffersKvm) }]
      : [{ key: 'kvm modules', value: v.kvmModules.join(', ') || 'none' }]),
    { key: 'nested', value: yesNo(v.nested) },
    { key: 'KVM usable', value: `${v.kvmUsable ? 'yes' : 'no'}: ${v.reason}` },
  ];
  const libvirt: Pair[] = [
    { key: 'URI', value: f.libvirt.uri },
    { key: 'host access', value: accessText(f.access) },
    { key: 'reachable', value: f.libvirt.reachable ? 'yes' : `no: ${f.libvirt.error ?? ''}` },
    { key: 'library', value: f.libvirt.libraryVersion },
    { key: 'daemon', value: f.libvirt.daemonVersion },
    { key: 'hypervisor', value: f.libvirt.hypervisor },
    { key: 'domain types', value: f.libvirt.domainTypes.join(', ') },
  ];
  const capacity: Pair[] = [
    { key: 'host CPUs', value: c.hostCpus },
    { key: 'host memory', value: formatBytes(c.hostMemoryBytes) },
    { key: 'running VMs', value: `${c.running.vms} (${c.running.vcpus} vCPUs, ${formatBytes(c.running.memoryBytes)})` },
    { key: 'defined VMs', value: `${c.defined.vms} (${c.defined.vcpus} vCPUs, ${formatBytes(c.defined.memoryBytes)})` },
    ...(c.incoming.length > 0 ? [{ key: 'incoming VMs', value: `${c.incoming.length} (${c.incoming.map((v) => `${v.name} from ${v.from}`).join(', ')}; counted there until it has moved)` }] : []),
    { key: 'CPU overcommit', value: `${ratio(c.cpuOvercommit.running) ?? '-'} running, ${ratio(c.cpuOvercommit.defined) ?? '-'} defined` },
    { key: 'memory overcommit', value: `${ratio(c.memoryOvercommit.running) ?? '-'} running, ${ratio(c.memoryOvercommit.defined) ?? '-'} defined` },
  ];
  const forwarding: Pair[] = [
    { key: 'ip_forward', value: yesNo(f.nat.ipForward) },
    { key: 'FORWARD policy', value: f.nat.forwardPolicy ?? (f.nat.error ? `unknown: ${f.nat.error}` : undefined) },
    { key: 'bridge-nf-call-iptables', value: f.nat.bridgeNfCallIptables === undefined ? 'off (br_netfilter not loaded)' : yesNo(f.nat.bridgeNfCallIptables) },
  ];
  return [
    { title: 'Virtualization', columns: pairColumns, rows: virtualization },
    { title: 'libvirt', columns: pairColumns, rows: libvirt },
    { title: 'Capacity', columns: pairColumns, rows: capacity },
    {
      title: 'Bridges',
      columns: bridgeColumns,
      rows: f.bridges,
      empty: f.bridgesError ? `unavailable: ${f.bridgesError}` : 'no Linux bridges',
    },
    { title: 'NAT and forwarding', columns: pairColumns, rows: forwarding },
    { title: 'NAT rules', columns: natColumns, rows: f.nat.rules, empty: f.nat.error ? `unavailable: ${f.nat.error}` : 'no NAT rules' },
    {
      title: 'libvirt networks',
      columns: networkColumns,
      rows: f.networks,
      empty: f.libvirt.reachable ? 'no libvirt networks' : 'unavailable: libvirt not reachable',
    },
  ];
}

/** `kvmctl host` itself: the report; its verbs are added by index.ts. */
export function hostReportCommand(app: App): Command {
  return new Command('host')
  .description("show the host's KVM, libvirt, capacity, bridge, NAT and network state")
  .addHelpText(
    'after',
    '\nFor another host (qemu+ssh/tcp/tls URI) every fact is that host\'s: the verdict from its libvirt, bridges and NAT\n' +
      'over the URI\'s ssh transport (otherwise shown as not available). Exit 5 when the daemon does not answer.\n' +
      'With -H, a VM in the middle of a live migration between two of the hosts is counted once, on the host it comes from\n' +
      '(where it still runs); the host it goes to lists it as incoming and leaves it out of its running and defined VMs.\n' +
      examples('kvmctl host', 'kvmctl host -o json | jq .virtualization.kvmUsable', 'kvmctl -c qemu+ssh://root@kvm1/system host', 'kvmctl host check'),
  )
  .action(app.action(async (ctx) => runHostReport(ctx), { fanOut: fleetHostReport }));
}
