/**
 * `vm set NAME [--vcpus N] [--memory SIZE] [--live] [--config]`.
 *
 * --config (the default) changes the persistent definition: vCPUs and memory
 * become both the maximum and the amount in use, from the next start on.
 * --live changes the running guest within its maximum (vCPU hotplug, memory
 * balloon). Both may be given. A failure after the first change puts the
 * earlier ones back (exit 7).
 */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { RefusedError, UsageError } from '../../errors.js';
import { runPlan, type Step } from '../../exec/plan.js';
import { domainCalls, parseDominfo, type ChangeScope } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { parseVcpuLimit, vcpuLimitError } from '../../libvirt/capabilities.js';
import type { VirshCall } from '../../libvirt/virsh-client.js';
import { formatBytes, parseSize } from '../../units/size.js';
import { flag, value, type OptionsOf } from '../../verb.js';
import { HOST_CAPACITY_READS, hostCapacityOf, overcommitWarnings } from './capacity.js';
import { countOption } from '../../validate/count.js';
import { checkMemory } from './create-args.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { readVmInfo } from './info.js';

interface Amounts {
  vcpus: number;
  memoryBytes: number;
  /** In a definition: the memory in use at start, when below the maximum. */
  currentMemoryBytes?: number;
}

function change(what: string, call: VirshCall, undo: VirshCall): Step {
  return { what, do: { virsh: call }, undo: { virsh: undo } };
}

/**
 * The steps that change vCPUs and memory in one scope. In the definition the
 * amount in use may not exceed the maximum, so a rise sets the maximum first
 * and a cut sets the amount first; undone in reverse (what the executor does),
 * each order is again one libvirt accepts.
 */
function stepsFor(name: string, scope: 'live' | 'config', want: Partial<Amounts>, have: Amounts, old: Amounts): Step[] {
  const s: ChangeScope = { live: scope === 'live', config: scope === 'config' };
  const where = scope === 'live' ? 'running guest' : 'definition';
  const steps: Step[] = [];
  const ordered = (cut: boolean, max: Step, amount: Step) => (scope === 'live' ? [amount] : cut ? [amount, max] : [max, amount]);
  if (want.vcpus !== undefined && want.vcpus !== have.vcpus) {
    const max = change(`the maximum vCPUs of the ${where} of VM ${name}`, domainCalls.setvcpus(name, want.vcpus, s, true), domainCalls.setvcpus(name, old.vcpus, s, true));
    const count = change(`the vCPUs of the ${where} of VM ${name}`, domainCalls.setvcpus(name, want.vcpus, s), domainCalls.setvcpus(name, old.vcpus, s));
    steps.push(...ordered(want.vcpus < old.vcpus, max, count));
  }
  if (want.memoryBytes !== undefined && want.memoryBytes !== have.memoryBytes) {
    const max = change(`the maximum memory of the ${where} of VM ${name}`, domainCalls.setmaxmem(name, want.memoryBytes), domainCalls.setmaxmem(name, old.memoryBytes));
    const amount = change(`the memory of the ${where} of VM ${name}`, domainCalls.setmem(name, want.memoryBytes, s), domainCalls.setmem(name, old.currentMemoryBytes ?? old.memoryBytes, s));
    steps.push(...ordered(want.memoryBytes < old.memoryBytes, max, amount));
  }
  return steps;
}

const options = {
  vcpus: value('--vcpus <n>', 'virtual CPUs'),
  memory: value('--memory <size>', 'memory, e.g. 2G'),
  live: flag('--live', 'change the running guest (within the maximum it was started with)'),
  config: flag('--config', 'change the definition, from the next start (the default)'),
};
export type SetOptions = OptionsOf<typeof options>;

export async function runVmSet(ctx: Context, name: string, opts: SetOptions): Promise<void> {
  checkVmName(name);
  const vcpus = countOption(opts.vcpus, '--vcpus', 1, 4096);
  const memoryBytes = opts.memory === undefined ? undefined : roundKiB(parseSize(opts.memory, '--memory'));
  if (opts.memory !== undefined) checkMemory(opts.memory, memoryBytes!);
  if (vcpus === undefined && memoryBytes === undefined) throw new UsageError('vm set: nothing to change', `give --vcpus N and/or --memory SIZE, e.g. ${kvmctlCommand(ctx.uri, 'vm', 'set', name, '--memory', '2G')}`);
  const live = opts.live === true;
  const config = opts.config === true || !live;

  const { state } = await readVmState(ctx, name);
  const running = isActive(state);
  if (live && !running) throw new RefusedError(`--live: VM ${JSON.stringify(name)} is ${state}, so there is no running guest to change`, `leave out --live to change its definition`);

  const reads = { xml: domainCalls.dumpxml(name, true), dominfo: domainCalls.dominfo(name), ...HOST_CAPACITY_READS };
  const { out, stderr } = await ctx.virsh.batchWithStderr(reads);
  if (!out.xml.trim()) throw ctx.virsh.errorOf(reads.xml, stderr);
  const def = await parseDomainXml(out.xml);
  const info = parseDominfo(out.dominfo);
  const persistent: Amounts = { vcpus: def.vcpus, memoryBytes: def.memoryBytes, currentMemoryBytes: def.currentMemoryBytes };
  const current: Amounts = { vcpus: info.vcpus ?? def.vcpus, memoryBytes: info.usedMemoryBytes ?? def.currentMemoryBytes };
  if (live) {
    // The running guest's ceiling is what it was started with.
    const maxMem = info.maxMemoryBytes ?? def.memoryBytes;
    if (memoryBytes !== undefined && memoryBytes > maxMem) {
      throw new RefusedError(`--live --memory ${formatBytes(memoryBytes)}: VM ${JSON.stringify(name)} was started with at most ${formatBytes(maxMem)}`, 'use --config (from the next start), then restart the VM');
    }
  }
  if (vcpus !== undefined) {
    // The limit of this VM's own type, arch and machine; a host that cannot say (an old libvirt) leaves it to define.
    const domcaps = await ctx.virsh.attempt(domainCalls.domcapabilities(def.type, def.os.arch, def.os.machine));
    const tooMany = vcpuLimitError('--vcpus', vcpus, domcaps.exitCode === 0 ? await parseVcpuLimit(domcaps.stdout) : undefined, name);
    if (tooMany) throw tooMany;
  }
  const inUse = running ? current.memoryBytes : 0;
  for (const w of overcommitWarnings(hostCapacityOf(out.nodeinfo, out.nodememstats), vcpus, memoryBytes, inUse)) ctx.out.warn(w);

  const want = { vcpus, memoryBytes };
  // A definition whose count or memory in use differs from its maximum also counts as a change.
  const configHave: Amounts = {
    vcpus: def.vcpus,
    memoryBytes: def.currentMemoryBytes === def.memoryBytes ? def.memoryBytes : -1,
  };
  const steps = [...(config ? stepsFor(name, 'config', want, configHave, persistent) : []), ...(live ? stepsFor(name, 'live', want, current, current) : [])];
  // JSON: the VM as it is afterwards (vm info's object), read again.
  const json = async (changed: boolean) => (ctx.out.json ? { changed, ...(await readVmInfo(ctx, name)) } : undefined);
  if (steps.length === 0) return ctx.out.done(`vm ${name} unchanged (it already has these settings)`, await json(false));

  await runPlan(ctx, { label: `vm set ${name}`, steps });
  const what = [vcpus !== undefined ? `${vcpus} vCPU${vcpus === 1 ? '' : 's'}` : undefined, memoryBytes !== undefined ? formatBytes(memoryBytes) : undefined].filter(Boolean).join(', ');
  const when = live && config ? 'now and from the next start' : live ? 'now (until it stops)' : running ? 'from the next start (add --live to change the running guest too)' : 'from the next start';
  ctx.out.done(`vm ${name} set to ${what}, ${when}`, await json(!ctx.dryRun));
}

function roundKiB(bytes: number): number {
  return Math.ceil(bytes / 1024) * 1024;
}

export const setCommand = vmVerb('set', 'change vCPUs and memory, in the definition (default) and/or the running guest', runVmSet, {
  options,
  examples: ['kvmctl vm set web1 --vcpus 4 --memory 8G', 'kvmctl vm set web1 --memory 1G --live'],
});
