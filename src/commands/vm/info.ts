/**
 * `vm info NAME`: reads everything in one virsh process
 * (XML, dominfo, state and reason, block sizes, snapshots, networks) plus one
 * for the DHCP leases of the networks the VM's NICs are on.
 */
import type { Context } from '../../context.js';
import { domainCalls, parseDominfo, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { numberStat, parseDomstats } from '../../libvirt/domstats.js';
import { networkCalls, parseDhcpLeases } from '../../libvirt/network-commands.js';
import { parseNetList } from '../../libvirt/network-xml.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { snapshotColumns, snapshotRows } from './snapshot/snapshots.js';
import { leaseAddress, vmObject, type VmAddress, type VmConsole, type VmDisk, type VmNic, type VmObject } from './vm-object.js';

/** The VM (schemas/vm-info.schema.json); its addresses are its DHCP leases unless the caller found them another way. */
export async function readVmInfo(ctx: Context, name: string, found?: VmAddress[]): Promise<VmObject> {
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
  const addresses: VmAddress[] = found ?? [];
  if (found === undefined && state === 'running' && nets.length > 0) {
    const { leases } = await ctx.virsh.batch({ leases: nets.map((n) => networkCalls.dhcpLeases(n)) });
    for (const text of leases) for (const l of parseDhcpLeases(text)) addresses.push(leaseAddress(l));
  }
  return vmObject(
    { ...def, name: def.name || name },
    { state, reason: st.reason, uuid: info.uuid, autostart: info.autostart, persistent: info.persistent, usedMemoryBytes: info.usedMemoryBytes, capacity, addresses, snapshots: snapshotRows(out.snapshots, out.current) },
  );
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
  { header: 'IP', value: (n) => n.addresses.map((a) => a.address).join(', ') },
];

const consoleColumns: Column<VmConsole>[] = [
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
      ['Memory', `${formatBytes(vm.memoryBytes)} of ${formatBytes(vm.maxMemoryBytes)}`],
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

export const infoCommand = vmVerb('info', 'show one VM: state, CPUs, memory, boot, disks, NICs with IPs, consoles, snapshots', runVmInfo, {
  examples: ['kvmctl vm info web1', 'kvmctl vm info web1 -o json'],
  fanOut: true,
});
