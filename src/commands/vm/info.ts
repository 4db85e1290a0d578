/**
 * `vm info NAME`: reads everything in one virsh process
 * (XML, dominfo, state and reason, block sizes, snapshots, networks) plus one
 * for the DHCP leases of the networks the VM's NICs are on.
 */
import type { Context } from '../../context.js';
import { domainCalls, parseDominfo, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';
import { diskPath, parseDomainXml, sourceKey, type DomainConsole, type DomainDefinition } from '../../libvirt/domain-xml.js';
import { numberStat, parseDomstats } from '../../libvirt/domstats.js';
import { networkCalls, parseDhcpLeases } from '../../libvirt/network-commands.js';
import { parseNetList } from '../../libvirt/network-xml.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { snapshotColumns, snapshotRows, type SnapshotRow } from './snapshot/snapshots.js';

export interface VmDisk {
  target: string;
  device: string;
  bus?: string;
  source?: string;
  format?: string;
  capacityBytes?: number;
  readonly: boolean;
}

export interface VmNic {
  type: string;
  source?: string;
  model?: string;
  mac?: string;
  ips: string[];
}

export interface VmInfo {
  name: string;
  uuid?: string;
  state: string;
  reason?: string;
  virtType: string;
  vcpus: number;
  memory: { currentBytes?: number; maxBytes: number };
  autostart?: boolean;
  persistent?: boolean;
  boot: { firmware: string; devices: string[]; kernel?: string; initrd?: string; cmdline?: string };
  disks: VmDisk[];
  nics: VmNic[];
  consoles: DomainConsole[];
  snapshots: SnapshotRow[];
}

/** The source of a NIC as a user would name it. */
function nicSource(n: DomainDefinition['interfaces'][number]): string | undefined {
  switch (n.type) {
    case 'network':
      return n.source.network;
    case 'bridge':
      return n.source.bridge;
    case 'direct':
      return n.source.dev;
    default:
      return undefined;
  }
}

export async function readVmInfo(ctx: Context, name: string): Promise<VmInfo> {
  const reads = {
    xml: domainCalls.dumpxml(name),
    dominfo: domainCalls.dominfo(name),
    state: domainCalls.domstate(name),
    blocks: domainCalls.domstatsOne(name, ['block']),
    snapshots: domainCalls.snapshotList(name),
    networks: networkCalls.list(),
    current: domainCalls.snapshotCurrent(name),
  };
  const { out, stderr } = await ctx.virsh.batchWithStderr(reads);
  if (!out.xml.trim()) throw ctx.virsh.errorOf(reads.xml, stderr);
  const def = await parseDomainXml(out.xml);
  const info = parseDominfo(out.dominfo);
  const st = parseDomstate(out.state);
  const state = stateKey(st.state);
  const blockStats = parseDomstats(out.blocks)[0]?.stats ?? {};
  const capacity = new Map<string, number>();
  for (let i = 0; i < (numberStat(blockStats, 'block.count') ?? 0); i++) {
    const dev = blockStats[`block.${i}.name`];
    const cap = numberStat(blockStats, `block.${i}.capacity`);
    if (dev !== undefined && cap !== undefined) capacity.set(dev, cap);
  }

  // Leases only mean something for a running VM on an active libvirt network.
  const active = new Set(parseNetList(out.networks).filter((n) => n.active).map((n) => n.name));
  const nets = [...new Set(def.interfaces.flatMap((n) => (n.type === 'network' && active.has(n.source.network) ? [n.source.network] : [])))];
  const ipsByMac = new Map<string, string[]>();
  if (state === 'running' && nets.length > 0) {
    const { leases } = await ctx.virsh.batch({ leases: nets.map((n) => networkCalls.dhcpLeases(n)) });
    for (const text of leases) for (const l of parseDhcpLeases(text)) ipsByMac.set(l.mac, [...(ipsByMac.get(l.mac) ?? []), l.ip]);
  }

  const serials = (def.consoles ?? []).filter((c) => c.kind === 'serial');
  return {
    name: def.name || name,
    uuid: def.uuid ?? info.uuid,
    state,
    reason: st.reason,
    virtType: def.type,
    vcpus: def.vcpus,
    memory: { currentBytes: info.usedMemoryBytes ?? def.currentMemoryBytes, maxBytes: def.memoryBytes },
    autostart: info.autostart,
    persistent: info.persistent,
    boot: { firmware: def.os.firmware === 'efi' || def.os.loader ? 'uefi' : 'bios', devices: def.os.boot, kernel: def.os.kernel, initrd: def.os.initrd, cmdline: def.os.cmdline },
    disks: def.disks.map((d) => ({
      target: d.target.dev,
      device: d.device,
      bus: d.target.bus,
      source: diskPath(d) ?? sourceKey(d.source),
      format: d.driver?.type,
      capacityBytes: capacity.get(d.target.dev),
      readonly: d.readonly === true,
    })),
    nics: def.interfaces.map((n) => ({ type: n.type === 'other' ? n.rawType : n.type, source: nicSource(n), model: n.model, mac: n.mac, ips: n.mac ? (ipsByMac.get(n.mac.toLowerCase()) ?? []) : [] })),
    consoles: serials.length > 0 ? serials : (def.consoles ?? []),
    snapshots: snapshotRows(out.snapshots, out.current),
  };
}

const diskColumns: Column<VmDisk>[] = [
  { header: 'TARGET', value: (d) => d.target },
  { header: 'DEVICE', value: (d) => d.device },
  { header: 'BUS', value: (d) => d.bus },
  { header: 'FORMAT', value: (d) => d.format },
  { header: 'CAPACITY', value: (d) => formatBytes(d.capacityBytes) },
  { header: 'SOURCE', value: (d) => d.source },
];

const nicColumns: Column<VmNic>[] = [
  { header: 'TYPE', value: (n) => n.type },
  { header: 'SOURCE', value: (n) => n.source },
  { header: 'MODEL', value: (n) => n.model },
  { header: 'MAC', value: (n) => n.mac },
  { header: 'IP', value: (n) => n.ips.join(', ') },
];

const consoleColumns: Column<DomainConsole>[] = [
  { header: 'TYPE', value: (c) => `${c.kind} (${c.type})` },
  { header: 'HOST DEVICE', value: (c) => c.path },
  { header: 'LOG', value: (c) => c.logFile },
];

export async function runVmInfo(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const vm = await readVmInfo(ctx, name);
  const boot = vm.boot.kernel ? `kernel ${vm.boot.kernel}${vm.boot.cmdline ? ` (${vm.boot.cmdline})` : ''}` : vm.boot.devices.join(', ') || '-';
  ctx.out.details(
    [
      ['Name', vm.name],
      ['UUID', vm.uuid],
      ['State', vm.reason ? `${vm.state} (${vm.reason})` : vm.state],
      ['Type', vm.virtType],
      ['vCPUs', vm.vcpus],
      ['Memory', `${formatBytes(vm.memory.currentBytes) ?? '-'} of ${formatBytes(vm.memory.maxBytes)}`],
      ['Autostart', vm.autostart],
      ['Persistent', vm.persistent],
      ['Firmware', vm.boot.firmware],
      ['Boot', boot],
    ],
    [
      { title: 'Disks', columns: diskColumns, rows: vm.disks, empty: 'no disks' },
      { title: 'NICs', columns: nicColumns, rows: vm.nics, empty: 'no NICs' },
      { title: 'Consoles', columns: consoleColumns, rows: vm.consoles, empty: 'no consoles' },
      { title: 'Snapshots', columns: snapshotColumns, rows: vm.snapshots, empty: 'no snapshots' },
    ],
    vm,
  );
}

export const infoCommand = vmVerb({
  name: 'info',
  description: 'show one VM: state, CPUs, memory, boot, disks, NICs with IPs, consoles, snapshots',
  examples: ['kvmctl vm info web1', 'kvmctl vm info web1 -o json'],
  fanOut: true,
  run: (ctx, name) => runVmInfo(ctx, name),
});
