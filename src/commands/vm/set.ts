/**
 * `vm set NAME [--vcpus N] [--memory SIZE] [--live] [--config]`.
 *
 * --config (the default) changes the persistent definition: vCPUs and memory
 * become both the maximum and the amount in use, from the next start on.
 * --live changes the running guest within its maximum (vCPU hotplug, memory
 * balloon). Both may be given. A failure after the first change puts the
 * earlier ones back (exit 7).
 */
import type { Command as Declaration } from 'commander';
import type { App } from '../../app.js';
import type { Context } from '../../context.js';
import { formatCommand, kvmctlCommand, type Command } from '../../exec/command.js';
import { RefusedError, UsageError } from '../../errors.js';
import { domainArgs, domainCommands, parseDominfo, type ChangeScope } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { classifyVirshError, runVirsh, runVirshBatch, virshRead } from '../../libvirt/virsh.js';
import { formatBytes, parseSize } from '../../units/size.js';
import { HOST_CAPACITY_ARGS, hostCapacityOf, overcommitWarnings } from './capacity.js';
import { checkMemory, parseCount } from './create-args.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmVerb } from './verb.js';

interface Amounts {
  vcpus: number;
  memoryBytes: number;
  /** In a definition: the memory in use at start, when below the maximum. */
  currentMemoryBytes?: number;
}

/** One change: the commands that make it and those that put the old values back. */
interface Change {
  what: string;
  cmds: Command[];
  undo: Command[];
}

/**
 * The changes of vCPUs and memory in one scope, in an order libvirt accepts:
 * in the definition the maximum goes first (libvirt refuses a count above it,
 * and lowers the count along with it).
 */
function changesFor(uri: string, name: string, scope: 'live' | 'config', want: Partial<Amounts>, have: Amounts, old: Amounts): Change[] {
  const s: ChangeScope = { live: scope === 'live', config: scope === 'config' };
  const where = scope === 'live' ? 'running guest' : 'definition';
  const vcpus = (n: number) => [...(scope === 'config' ? [domainCommands.setvcpus(uri, name, n, s, true)] : []), domainCommands.setvcpus(uri, name, n, s)];
  const memory = (bytes: number, current = bytes) => [...(scope === 'config' ? [domainCommands.setmaxmem(uri, name, bytes)] : []), domainCommands.setmem(uri, name, current, s)];
  const changes: Change[] = [];
  if (want.vcpus !== undefined && want.vcpus !== have.vcpus) changes.push({ what: `the vCPUs of the ${where} of VM ${name}`, cmds: vcpus(want.vcpus), undo: vcpus(old.vcpus) });
  if (want.memoryBytes !== undefined && want.memoryBytes !== have.memoryBytes) {
    changes.push({ what: `the memory of the ${where} of VM ${name}`, cmds: memory(want.memoryBytes), undo: memory(old.memoryBytes, old.currentMemoryBytes) });
  }
  return changes;
}

export interface SetOptions {
  vcpus?: string;
  memory?: string;
  live?: boolean;
  config?: boolean;
}

export function setCommand(app: App): Declaration {
  return vmVerb('set', 'change vCPUs and memory, in the definition (default) and/or the running guest', 'kvmctl vm set web1 --vcpus 4 --memory 8G', 'kvmctl vm set web1 --memory 1G --live')
    .option('--vcpus <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2G')
    .option('--live', 'change the running guest (within the maximum it was started with)')
    .option('--config', 'change the definition, from the next start (the default)')
    .action(app.action(async (ctx, name: string, opts: SetOptions) => runVmSet(ctx, name, opts)));
}

export async function runVmSet(ctx: Context, name: string, opts: SetOptions): Promise<void> {
  checkVmName(name);
  const vcpus = opts.vcpus === undefined ? undefined : parseCount(opts.vcpus, '--vcpus', 1, 4096);
  const memoryBytes = opts.memory === undefined ? undefined : roundKiB(parseSize(opts.memory, '--memory'));
  if (opts.memory !== undefined) checkMemory(opts.memory, memoryBytes!);
  if (vcpus === undefined && memoryBytes === undefined) throw new UsageError('vm set: nothing to change', `give --vcpus N and/or --memory SIZE, e.g. ${kvmctlCommand(ctx.uri, 'vm', 'set', name, '--memory', '2G')}`);
  const live = opts.live === true;
  const config = opts.config === true || !live;

  const { state } = await readVmState(ctx, name);
  const running = isActive(state);
  if (live && !running) throw new RefusedError(`--live: VM ${JSON.stringify(name)} is ${state}, so there is no running guest to change`, `leave out --live to change its definition`);

  const batch = await runVirshBatch(ctx.runner, ctx.uri, [domainArgs.dumpxml(name, true), domainArgs.dominfo(name), ...HOST_CAPACITY_ARGS]);
  const [xml = '', dominfoOut = '', nodeinfo = '', memstats = ''] = batch.outputs;
  if (!xml.trim()) throw classifyVirshError(virshRead(ctx.uri, domainArgs.dumpxml(name, true)), { stdout: '', stderr: batch.stderr, exitCode: 1 }, { kind: 'vm', name }, ctx.uri);
  const def = await parseDomainXml(xml);
  const info = parseDominfo(dominfoOut);
  const persistent: Amounts = { vcpus: def.vcpus, memoryBytes: def.memoryBytes, currentMemoryBytes: def.currentMemoryBytes };
  const current: Amounts = { vcpus: info.vcpus ?? def.vcpus, memoryBytes: info.usedMemoryBytes ?? def.currentMemoryBytes };
  if (live) {
    // The running guest's ceiling is what it was started with.
    const maxMem = info.maxMemoryBytes ?? def.memoryBytes;
    if (memoryBytes !== undefined && memoryBytes > maxMem) {
      throw new RefusedError(`--live --memory ${formatBytes(memoryBytes)}: VM ${JSON.stringify(name)} was started with at most ${formatBytes(maxMem)}`, 'use --config (from the next start), then restart the VM');
    }
  }
  const inUse = running ? current.memoryBytes : 0;
  for (const w of overcommitWarnings(hostCapacityOf(nodeinfo, memstats), vcpus, memoryBytes, inUse)) ctx.out.warn(w);

  const want = { vcpus, memoryBytes };
  // A definition whose count or memory in use differs from its maximum also counts as a change.
  const configHave: Amounts = {
    vcpus: def.vcpus,
    memoryBytes: def.currentMemoryBytes === def.memoryBytes ? def.memoryBytes : -1,
  };
  const changes = [
    ...(config ? changesFor(ctx.uri, name, 'config', want, configHave, persistent) : []),
    ...(live ? changesFor(ctx.uri, name, 'live', want, current, current) : []),
  ];
  const json = { name, vcpus, memoryBytes, live, config };
  if (changes.length === 0) return ctx.out.done(`vm ${name} unchanged (it already has these settings)`, { ...json, changed: false });

  await ctx.transaction(`vm set ${name}`).run(async (tx) => {
    for (const change of changes) {
      // Registered first: a change that fails halfway (maximum set, count not) is put back too.
      tx.onRollback({
        what: change.what,
        run: async () => {
          for (const cmd of change.undo) await runVirsh(ctx.runner, cmd, { kind: 'vm', name });
        },
        manual: change.undo.map(formatCommand).join(' && '),
      });
      for (const cmd of change.cmds) await runVirsh(ctx.runner, cmd, { kind: 'vm', name });
      tx.checkpoint();
    }
  });
  const what = [vcpus !== undefined ? `${vcpus} vCPU${vcpus === 1 ? '' : 's'}` : undefined, memoryBytes !== undefined ? formatBytes(memoryBytes) : undefined].filter(Boolean).join(', ');
  const when = live && config ? 'now and from the next start' : live ? 'now (until it stops)' : running ? 'from the next start (add --live to change the running guest too)' : 'from the next start';
  ctx.out.done(`vm ${name} set to ${what}, ${when}`, { ...json, changed: true });
}

function roundKiB(bytes: number): number {
  return Math.ceil(bytes / 1024) * 1024;
}
