import { negatable, verb, type OptionsOf } from '../../verb.js';
import type { Context } from '../../context.js';
import { noAnswerWithin } from '../../exec/deadline-runner.js';
import { mapLimit } from '../../exec/parallel.js';
import { CommandTimeoutError } from '../../exec/runner.js';
import { loadInventory, inventoryPath, type InventoryHost } from '../../inventory/hosts-file.js';
import { parseNodeCpuPercent, parseNodeMemStats, parseVersion } from '../../libvirt/capabilities.js';
import { libvirtMessage, UnreachableError } from '../../libvirt/virsh.js';
import { read, Virsh } from '../../libvirt/virsh-client.js';
import { hostStatusObject, type HostProbe } from './host-object.js';
import { formatBytes } from '../../units/size.js';
import { reportable } from '../../host/facts.js';

export const options = {
  probe: negatable('--no-probe', 'only the inventory, without asking the hosts'),
};
export type HostListOptions = OptionsOf<typeof options>;

export type HostStatus = InventoryHost & HostProbe;

/** One virsh process per host: daemon version, CPU use over one second, memory. */
const PROBE = { version: read(['version', '--daemon']), cpu: read(['nodecpustats', '--percent']), mem: read(['nodememstats']) };

async function probe(ctx: Context, host: InventoryHost, timeoutMs: number): Promise<HostStatus> {
  try {
    const { out, stderr } = await new Virsh(ctx.runner, host.uri).batchWithStderr(PROBE, { timeoutMs });
    const v = parseVersion(out.version);
    if (!v.daemon) return { ...host, answers: false, error: libvirtMessage(stderr) || 'virsh printed nothing' };
    const m = parseNodeMemStats(out.mem);
    return {
      ...host,
      answers: true,
      libvirtVersion: v.daemon,
      hypervisor: v.hypervisorName ? `${v.hypervisorName} ${v.hypervisor ?? ''}`.trim() : v.hypervisor,
      cpuUsedPercent: parseNodeCpuPercent(out.cpu),
      memoryTotalBytes: m.totalBytes,
      memoryFreeBytes: m.freeBytes,
    };
  } catch (e) {
    const error = e instanceof CommandTimeoutError ? noAnswerWithin(timeoutMs) : e instanceof UnreachableError ? e.detail : reportable(e).message;
    return { ...host, answers: false, error };
  }
}

export async function runHostList(ctx: Context, opts: HostListOptions): Promise<void> {
  const parallel = ctx.parallel;
  const timeoutMs = ctx.hostTimeoutMs;
  const inv = await loadInventory(inventoryPath(ctx.io.env));
  const rows: HostStatus[] = opts.probe === false ? inv.hosts : await mapLimit(inv.hosts, parallel, (h) => probe(ctx, h, timeoutMs));
  if (!ctx.out.json && rows.length === 0) {
    ctx.out.warn(`no hosts in ${inv.path}: add one with kvmctl host add NAME --uri URI`);
    return;
  }
  ctx.out.list(
    [
      { header: 'NAME', value: (h: HostStatus) => h.name },
      { header: 'URI', value: (h: HostStatus) => h.uri },
      { header: 'GROUPS', value: (h: HostStatus) => h.groups.join(',') },
      { header: 'LABELS', value: (h: HostStatus) => Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',') },
      { header: 'MIGRATION', value: (h: HostStatus) => h.migrationAddress },
      { header: 'ANSWERS', value: (h: HostStatus) => (h.answers === undefined ? '-' : h.answers ? 'yes' : `no: ${h.error ?? ''}`) },
      { header: 'LIBVIRT', value: (h: HostStatus) => h.libvirtVersion },
      { header: 'CPU', value: (h: HostStatus) => (h.cpuUsedPercent === undefined ? undefined : `${h.cpuUsedPercent.toFixed(0)}%`) },
      { header: 'MEM FREE', value: (h: HostStatus) => (h.memoryFreeBytes === undefined ? undefined : `${formatBytes(h.memoryFreeBytes)} of ${formatBytes(h.memoryTotalBytes)}`) },
    ],
    rows,
    rows.map(hostStatusObject),
  );
}

export const hostListCommand = verb('list', 'list the inventory (URI, groups, labels, migration address): which hosts answer, their libvirt version, CPU use and free memory', runHostList, {
  options,
  examples: ['kvmctl host list', "kvmctl host list -o json | jq '.[] | select(.answers | not) | .name'", 'KVMCTL_HOSTS=./lab-hosts.yaml kvmctl host list --no-probe'],
});
