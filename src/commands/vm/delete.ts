/**
 * `vm delete NAME [--remove-storage] [--force]`.
 *
 * Refused for a running VM unless --force (which powers it off first). The
 * definition goes with its UEFI nvram file, snapshot and checkpoint metadata.
 * With --remove-storage, each disk volume goes too, unless another VM uses it
 * or it is the base image of another volume (a shared base, or the disk of a
 * linked clone); install media (read-only disks, CD-ROMs) are never removed,
 * except the cloud-init seed `vm create` made. What is kept is named, with why.
 */
import { basename, dirname } from 'node:path';
import type { Context } from '../../context.js';
import { formatCommand } from '../../exec/command.js';
import { PartialError, RefusedError } from '../../errors.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { isActive, loadDomains, type DomainRecord } from '../../libvirt/domains.js';
import { diskPath, sourceKey, type DomainDisk } from '../../libvirt/domain-xml.js';
import { dependentVolumes, loadPools, loadVolumes, poolCommands, volumeCommands, volumeUsers, type VolumeRecord } from '../../libvirt/storage.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';

export interface StorageDecision {
  target: string;
  path: string;
  pool?: string;
  volume?: string;
  remove: boolean;
  /** Why it is kept. */
  reason?: string;
}

/** Which of the VM's disks --remove-storage removes, and why each other one stays. Pure. */
export function storageDecisions(vm: DomainRecord, others: DomainRecord[], volumes: VolumeRecord[]): StorageDecision[] {
  const seed = vm.definition.kvmctl?.seed;
  return vm.definition.disks.map((d: DomainDisk): StorageDecision => {
    const path = diskPath(d) ?? sourceKey(d.source) ?? '';
    const vol = volumes.find((v) => (d.source?.pool !== undefined ? v.pool === d.source.pool && v.name === d.source.volume : v.path === path));
    const base = { target: d.target.dev, path: vol?.path ?? path, pool: vol?.pool, volume: vol?.name };
    const isSeed = seed !== undefined && vol !== undefined && vol.pool === seed.pool && vol.name === seed.volume;
    if (!isSeed && (d.device !== 'disk' || d.readonly)) return { ...base, remove: false, reason: 'install media and read-only disks are never removed' };
    if (!vol) return { ...base, remove: false, reason: 'not a volume of an active storage pool; remove it by hand if it is no longer needed' };
    const users = volumeUsers(others, vol).map((u) => u.vm);
    if (users.length > 0) return { ...base, remove: false, reason: `used by VM ${[...new Set(users)].join(', ')}` };
    const dependents = dependentVolumes(volumes, vol);
    if (dependents.length > 0) return { ...base, remove: false, reason: `base image of ${dependents.map((v) => `${v.pool}/${v.name}`).join(', ')}` };
    return { ...base, remove: true };
  });
}

export async function runVmDelete(ctx: Context, name: string, opts: { removeStorage?: boolean; force?: boolean }): Promise<void> {
  checkVmName(name);
  await ctx.withLock(`vm ${name}`, async () => {
    const { state } = await readVmState(ctx, name);
    if (isActive(state) && !opts.force) {
      throw new RefusedError(`VM ${JSON.stringify(name)} is ${state}; it was left unchanged`, `stop it first (kvmctl vm stop ${name}), or add --force to power it off and delete it`);
    }
    let decisions: StorageDecision[] = [];
    let logVolume: { pool: string; volume: string } | undefined;
    if (opts.removeStorage) {
      const [domains, pools] = await Promise.all([loadDomains(ctx.runner, ctx.uri), loadPools(ctx.runner, ctx.uri)]);
      const vm = domains.find((d) => d.name === name);
      if (!vm) return void (await readVmState(ctx, name));
      const volumes = await loadVolumes(ctx.runner, ctx.uri, pools.filter((p) => p.active));
      decisions = storageDecisions(
        vm,
        domains.filter((d) => d.name !== name),
        volumes,
      );
      // The serial log `vm create` put beside the first disk lies in that disk's pool directory.
      const log = vm.definition.serialLogs[0];
      const logPool = log === undefined ? undefined : pools.find((p) => p.active && p.targetPath !== undefined && p.targetPath.replace(/\/+$/, '') === dirname(log));
      if (log !== undefined && logPool && log.endsWith(`/${name}.serial.log`)) logVolume = { pool: logPool.name, volume: basename(log) };
    }

    if (isActive(state)) await runVirsh(ctx.runner, domainCommands.destroy(ctx.uri, name), { kind: 'vm', name });
    await undefine(ctx, name);

    const removed: StorageDecision[] = [];
    const failed: Array<{ d: StorageDecision; why: string }> = [];
    for (const d of decisions.filter((x) => x.remove)) {
      try {
        await runVirsh(ctx.runner, volumeCommands.delete(ctx.uri, d.pool ?? '', d.volume ?? ''), { kind: 'volume', name: `${d.pool}/${d.volume}` });
        removed.push(d);
      } catch (err) {
        failed.push({ d, why: err instanceof Error ? err.message : String(err) });
      }
    }
    if (logVolume) await removeLog(ctx, logVolume.pool, logVolume.volume);
    if (failed.length > 0) {
      throw new PartialError(
        `VM ${JSON.stringify(name)} was deleted, but ${failed.length} of its volumes could not be removed (${failed.map((f) => f.why).join('; ')})`,
        failed.map((f) => `volume ${f.d.pool}/${f.d.volume} (remove with: ${formatCommand(volumeCommands.delete(ctx.uri, f.d.pool ?? '', f.d.volume ?? ''))})`),
        'run the commands listed above once the cause is fixed',
      );
    }
    report(ctx, name, opts.removeStorage === true, removed, decisions.filter((d) => !d.remove));
  });
}

/** undefine; a transient VM is already gone once it is powered off. */
async function undefine(ctx: Context, name: string): Promise<void> {
  const cmd = domainCommands.undefine(ctx.uri, name);
  const result = await ctx.runner.run(cmd);
  if (result.exitCode === 0) return;
  if (/failed to get domain|Domain not found/i.test(result.stderr)) return;
  await runVirsh(ctx.runner, cmd, { kind: 'vm', name });
}

/** The log file is seen as a volume only after a refresh; it may not exist (the VM never ran). */
async function removeLog(ctx: Context, pool: string, volume: string): Promise<void> {
  await runVirsh(ctx.runner, poolCommands.refresh(ctx.uri, pool), { kind: 'pool', name: pool });
  const result = await ctx.runner.run(volumeCommands.delete(ctx.uri, pool, volume));
  if (result.exitCode !== 0 && !/Storage volume not found|no storage vol|failed to get vol/i.test(result.stderr)) {
    ctx.out.warn(`could not remove the serial log ${pool}/${volume}: ${result.stderr.trim()}`);
  }
}

function report(ctx: Context, name: string, removeStorage: boolean, removed: StorageDecision[], kept: StorageDecision[]): void {
  const ref = (d: StorageDecision) => (d.pool ? `${d.pool}/${d.volume}` : d.path);
  const json = {
    name,
    deleted: true,
    removed: removed.map((d) => ({ target: d.target, pool: d.pool, volume: d.volume, path: d.path })),
    kept: kept.map((d) => ({ target: d.target, pool: d.pool, volume: d.volume, path: d.path, reason: d.reason })),
  };
  if (ctx.out.json) return ctx.out.printJson(json);
  const lines = [`vm ${name} deleted`];
  if (!removeStorage) lines.push('  its disks were kept (add --remove-storage to remove them)');
  for (const d of removed) lines.push(`  removed ${ref(d)}`);
  for (const d of kept) lines.push(`  kept ${ref(d)}: ${d.reason}`);
  ctx.out.done(lines.join('\n'), json);
}
