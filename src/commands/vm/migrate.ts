/**
 * `vm migrate NAME --to HOST`: move a VM to another host with libvirt's own
 * migration. Live when it runs, offline when it is shut off; persistent on
 * the target and undefined on the source (unless --keep-source). A read-only
 * pre-check on both hosts comes first (migrate-plan.ts): anything libvirt
 * would refuse later, or that would hurt the VM, is exit 5 with nothing moved.
 * Then migrate-job.ts runs the job, shows its progress, and on Ctrl-C or
 * --timeout aborts it and says where the VM is.
 */
import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import type { Context } from '../../context.js';
import { NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { DeadlineRunner, noAnswerWithin } from '../../exec/deadline-runner.js';
import { inventoryPath, loadInventory } from '../../inventory/hosts-file.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { parseNodememstats } from '../../libvirt/domain-commands.js';
import { hostUuidOf, MigrationClient } from '../../libvirt/migration.js';
import { loadPools, parseNameList } from '../../libvirt/storage.js';
import { libvirtMessage } from '../../libvirt/virsh.js';
import { Virsh } from '../../libvirt/virsh-client.js';
import { parseLibvirtUri } from '../../libvirt/uri.js';
import { parseCount } from '../../validate/count.js';
import { checkVmName, readVmState } from './domain-state.js';
import { planMigration, type SourceFacts, type StorageChoice, type TargetFacts } from './migrate-plan.js';
import { runMigrationJob, type OnTimeout } from './migrate-job.js';

export interface MigrateFlags {
  to: string;
  keepSource?: boolean;
  storage?: StorageChoice;
  targetPool?: string;
  timeout?: string;
  onTimeout?: OnTimeout;
  bandwidth?: string;
}

export const STORAGE_CHOICES: readonly StorageChoice[] = ['auto', 'shared', 'copy', 'copy-inc'];

export function migrateCommand(app: App): Command {
  return new Command('migrate')
    .description('move a VM to another host: live when it runs, offline when it is shut off; persistent there, undefined here (unless --keep-source)')
    .argument('<name>', 'VM name')
    .requiredOption('--to <host>', 'the target: a host of the inventory (kvmctl host list) or a libvirt URI')
    .option('--keep-source', 'keep the definition on the source (shut off) after the move')
    .addOption(new Option('--storage <mode>', 'shared: the target sees the disks at the same paths; copy: copy them (full images); copy-inc: copy only the top image of each overlay (the base must be on the target); auto: shared where the target sees the disk, else copy').choices(STORAGE_CHOICES).default('auto'))
    .option('--target-pool <pool>', 'copy the disks into this storage pool of the target (default: the pool of the target for the disk\'s directory)')
    .option('--timeout <seconds>', 'when the job has not finished by then, act as --on-timeout says')
    .addOption(new Option('--on-timeout <action>', 'abort: cancel the job (the VM keeps running here, exit 6); suspend: pause the guest so the copy can finish (it runs again on the target)').choices(['abort', 'suspend']).default('abort'))
    .option('--bandwidth <MiB/s>', 'limit the migration stream to this many MiB/s')
    .addHelpText(
      'after',
      examples(
        'kvmctl vm migrate web1 --to kvm2',
        'kvmctl vm migrate web1 --to kvm2 --storage copy --target-pool data',
        'kvmctl vm migrate db1 --to qemu+ssh://root@kvm3/system --timeout 300 --on-timeout suspend',
        'kvmctl -o json vm migrate web1 --to kvm2 > web1-migration.ndjson',
      ) +
        '\nThe migration data goes to the target\'s migrationAddress from the inventory (docs/hosts.md), else to the host\n' +
        'of its URI. Before anything moves, both hosts are checked (exit 5, nothing moved): a VM of that name or UUID\n' +
        'on the target, the same host, missing networks or pools, memory, the guest CPU (hypervisor-cpu-compare),\n' +
        'disks neither shared nor copied. Progress comes from the source\'s job info; -o json prints one JSON event a\n' +
        'line. Ctrl-C, SIGTERM and SIGHUP abort the job (domjobabort) and confirm that the VM still runs here.\n' +
        'Exit: 0 moved, 5 refused, 6 timed out (aborted; it runs here), 7 failed (it runs here, nothing left on the\n' +
        'target), 8 failed and it runs nowhere (the message gives the commands to recover), 130 interrupted (aborted).\n',
    )
    .action(app.action(async (ctx, name: string, flags: MigrateFlags) => runVmMigrate(ctx, name, flags)));
}

export interface HostRef {
  uri: string;
  /** The inventory name, else the URI. */
  label: string;
  migrationAddress?: string;
}

/** --to: an inventory host name, or a URI (its host part is the migration address). */
export async function resolveTarget(ctx: Context, to: string): Promise<HostRef> {
  if (to.includes('://')) {
    const u = parseLibvirtUri(to);
    if (!u) throw new UsageError(`--to ${JSON.stringify(to)} is not a libvirt URI`, 'use a host name of the inventory, or a URI such as qemu+ssh://root@kvm2/system');
    const remote = u.transport !== 'unix' && u.host !== undefined && u.host !== '';
    return { uri: to, label: to, migrationAddress: remote ? u.host : undefined };
  }
  const inv = await loadInventory(inventoryPath(ctx.io.env));
  const host = inv.hosts.find((h) => h.name === to);
  if (!host) throw new NotFoundError(`no host ${JSON.stringify(to)} in the inventory ${inv.path}`, `list the hosts with: ${kvmctlCommand(undefined, 'host', 'list')}, or give a URI to --to`);
  const u = parseLibvirtUri(host.uri);
  const fallback = u && u.transport !== 'unix' && u.host ? u.host : undefined;
  return { uri: host.uri, label: host.name, migrationAddress: host.migrationAddress ?? fallback };
}

async function sourceLabel(ctx: Context): Promise<string> {
  try {
    const inv = await loadInventory(inventoryPath(ctx.io.env));
    return inv.hosts.find((h) => h.uri === ctx.uri)?.name ?? ctx.uri;
  } catch {
    // The inventory only names hosts in messages here; a broken one is reported by commands that need it.
    return ctx.uri;
  }
}

function parseFlags(flags: MigrateFlags): { timeoutS?: number; bandwidthMiB?: number } {
  if (flags.onTimeout === 'suspend' && flags.timeout === undefined) throw new UsageError('--on-timeout suspend needs --timeout SECONDS', 'e.g. --timeout 300 --on-timeout suspend');
  if (flags.targetPool !== undefined && flags.storage === 'shared') throw new UsageError('--target-pool copies disks, --storage shared copies none', 'use --storage copy (or auto) with --target-pool');
  return {
    timeoutS: flags.timeout === undefined ? undefined : parseCount(flags.timeout, '--timeout', 1, 86_400),
    bandwidthMiB: flags.bandwidth === undefined ? undefined : parseCount(flags.bandwidth, '--bandwidth', 1, 1_000_000),
  };
}

/** Everything the pre-check needs from both hosts; reads only. */
async function gatherFacts(ctx: Context, hosts: MigrationClient, name: string, target: HostRef): Promise<{ src: SourceFacts; dst: TargetFacts; xml: { live: string; persistent: string } }> {
  const { state } = await readVmState(ctx, name);
  const s = (await hosts.readSource(name)).out;
  const def = await parseDomainXml(state === 'shutoff' ? s.inactiveXml : s.xml);
  const diskPaths = def.disks.flatMap((d) => (d.source?.file ?? d.source?.dev) ?? []);
  const srcVolumes = await hosts.volumes('source', diskPaths);
  const backings = [...srcVolumes.values()].flatMap((v) => v?.backingStore?.path ?? []);
  for (const [p, v] of await hosts.volumes('source', backings)) srcVolumes.set(p, v);

  const t = await hosts.readTarget(name, def.uuid);
  if (!t.out.capabilities.trim()) throw new RefusedError(`cannot read the capabilities of ${target.label} (${libvirtMessage(t.stderr)})`, `check the target with: ${kvmctlCommand(target.uri, 'host')}`);
  const pools = await loadPools(hosts.target.runner, hosts.target.uri);
  const candidates = pools.flatMap((p) => (p.targetPath ? diskPaths.map((d) => `${p.targetPath}/${d.replace(/^.*\//, '')}`) : []));
  const dstVolumes = await hosts.volumes('target', [...diskPaths, ...backings, ...candidates]);
  // host-passthrough has no model to compare: the target's libvirt checks it when the guest starts there.
  const cpuError = def.cpuMode === 'host-passthrough' ? undefined : await hosts.cpuError(state === 'shutoff' ? s.inactiveXml : s.xml, def.type, def.os.arch, def.os.machine);
  const saved = state === 'shutoff' ? undefined : await parseDomainXml(s.inactiveXml);
  const src: SourceFacts = { uri: ctx.uri, label: await sourceLabel(ctx), state, def, ...(saved && { saved }), hostUuid: hostUuidOf(s.capabilities), volumes: srcVolumes };
  const dst: TargetFacts = {
    uri: target.uri,
    label: target.label,
    hostUuid: hostUuidOf(t.out.capabilities),
    hasName: t.out.byName.trim() !== '',
    uuidTakenBy: t.out.byUuid.trim() || undefined,
    activeNetworks: parseNameList(t.out.activeNetworks),
    allNetworks: parseNameList(t.out.allNetworks),
    memory: parseNodememstats(t.out.memory),
    pools,
    volumes: dstVolumes,
    cpuError,
  };
  return { src, dst, xml: { live: s.migratableXml, persistent: s.migratableInactiveXml } };
}

/**
 * The pre-check's reads, each host's within --host-timeout (a daemon that does not answer, a stopped
 * one, would hold them for ever): past it, the migration is refused with nothing moved.
 */
async function precheckFacts(ctx: Context, name: string, target: HostRef): ReturnType<typeof gatherFacts> {
  const deadline = Date.now() + ctx.hostTimeoutMs;
  const source = new DeadlineRunner(ctx.runner, deadline);
  const dest = new DeadlineRunner(ctx.runner, deadline);
  try {
    return await gatherFacts(ctx, new MigrationClient(new Virsh(source, ctx.uri), new Virsh(dest, target.uri)), name, target);
  } catch (e) {
    // The host whose program the deadline stopped is the one that did not answer.
    if (!source.expired && !dest.expired) throw e;
    const host = dest.expired ? target : { uri: ctx.uri, label: await sourceLabel(ctx) };
    throw new RefusedError(
      `vm migrate ${name} to ${target.label} refused, nothing was moved: ${host.label} gave the pre-check ${noAnswerWithin(ctx.hostTimeoutMs)}`,
      `check it with: ${kvmctlCommand(host.uri, 'host')}; --host-timeout SECONDS gives the pre-check longer`,
      { object: { kind: 'vm', name } },
    );
  }
}

export async function runVmMigrate(ctx: Context, name: string, flags: MigrateFlags): Promise<void> {
  checkVmName(name);
  const { timeoutS, bandwidthMiB } = parseFlags(flags);
  const target = await resolveTarget(ctx, flags.to);
  await ctx.withLock(`vm ${name}`, async () => {
    const hosts = new MigrationClient(ctx.virsh, new Virsh(ctx.runner, target.uri));
    const { src, dst, xml } = await precheckFacts(ctx, name, target);
    const { plan, refusals } = planMigration(src, dst, { storage: flags.storage ?? 'auto', targetPool: flags.targetPool });
    if (!plan) {
      throw new RefusedError(
        `vm migrate ${name} to ${target.label} refused, nothing was moved: ${refusals.map((r) => r.reason).join('; ')}`,
        refusals.map((r) => r.hint).join('; '),
        { object: { kind: 'vm', name } },
      );
    }
    await runMigrationJob(ctx, hosts, { name, source: { uri: src.uri, label: src.label }, target, plan, xml, keepSource: flags.keepSource === true, timeoutS, onTimeout: flags.onTimeout ?? 'abort', bandwidthMiB });
  });
}
