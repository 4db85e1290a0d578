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
import { kvmctlCommand } from '../../exec/command.js';
import { NotFoundError, PartialError, RefusedError } from '../../errors.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { isActive, loadDomains, type DomainRecord } from '../../libvirt/domains.js';
import { diskPath, sourceKey, type DomainDisk } from '../../libvirt/domain-xml.js';
import { dependentVolumes, isLocalUri, loadPools, poolCalls, volumeCalls, volumeUsers, type VolumeRecord } from '../../libvirt/storage.js';
import { backingChainUses, describeChainUses, type ChainUse } from '../../storage/chains.js';
import { realStorageFiles } from '../../storage/local-files.js';
import { loadVolumeRecords } from '../../storage/inventory.js';
import { checkVmName, readVmState } from './domain-state.js';
import { flag, type OptionsOf } from '../../verb.js';
import { vmsDeleteVerb } from './vm-name.js';

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
export function storageDecisions(vm: DomainRecord, others: DomainRecord[], volumes: VolumeRecord[], chains: Map<string, ChainUse[]> = new Map()): StorageDecision[] {
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
    const chained = (chains.get(vol.path) ?? []).filter((u) => u.vm !== vm.name);
    if (chained.length > 0) return { ...base, remove: false, reason: `in the backing chain of ${describeChainUses(chained)}` };
    return { ...base, remove: true };
  });
}

const options = {
  removeStorage: flag('--remove-storage', 'also remove its disk volumes that no other VM uses and that are no base image, and its cloud-init seed'),
  force: flag('--force', 'power it off first if it runs'),
};
export type DeleteOptions = OptionsOf<typeof options>;

export async function runVmDelete(ctx: Context, name: string, opts: DeleteOptions): Promise<void> {
  checkVmName(name);
  await ctx.withLock(`vm ${name}`, async () => {
    const { state } = await readVmState(ctx, name);
    if (isActive(state) && !opts.force) {
      throw new RefusedError(`VM ${JSON.stringify(name)} is ${state}; it was left unchanged`, `stop it first (${kvmctlCommand(ctx.uri, 'vm', 'stop', name)}), or add --force to power it off and delete it`);
    }
    let decisions: StorageDecision[] = [];
    let logVolume: { pool: string; volume: string } | undefined;
    if (opts.removeStorage) {
      const [domains, pools] = await Promise.all([loadDomains(ctx.runner, ctx.uri), loadPools(ctx.runner, ctx.uri)]);
      const vm = domains.find((d) => d.name === name);
      if (!vm) return void (await readVmState(ctx, name));
      const volumes = await loadVolumeRecords(ctx, pools.filter((p) => p.active));
      decisions = storageDecisions(
        vm,
        domains.filter((d) => d.name !== name),
        volumes,
        isLocalUri(ctx.uri) ? await backingChainUses(domains.filter((d) => d.name !== name), realStorageFiles) : undefined,
      );
      // The serial log `vm create` put beside the first disk lies in that disk's pool directory.
      const log = vm.definition.serialLogs[0];
      const logPool = log === undefined ? undefined : pools.find((p) => p.active && p.targetPath !== undefined && p.targetPath.replace(/\/+$/, '') === dirname(log));
      if (log !== undefined && logPool && log.endsWith(`/${name}.serial.log`)) logVolume = { pool: logPool.name, volume: basename(log) };
    }

    if (isActive(state)) await ctx.virsh.run(domainCalls.destroy(name));
    await undefine(ctx, name, isActive(state));

    // From here on the VM is gone: a step that fails no longer stops the others, and whatever stays is named.
    const removed: StorageDecision[] = [];
    const failed: Array<{ what: string; manual: string; why: string }> = [];
    for (const d of decisions.filter((x) => x.remove)) {
      const call = volumeCalls.delete(d.pool ?? '', d.volume ?? '');
      try {
        await ctx.virsh.run(call);
        removed.push(d);
      } catch (err) {
        failed.push({ what: `volume ${d.pool}/${d.volume}`, manual: ctx.virsh.manual(call), why: err instanceof Error ? err.message : String(err) });
      }
    }
    const logLeft = logVolume ? await removeLog(ctx, logVolume.pool, logVolume.volume) : undefined;
    if (failed.length > 0 || logLeft) {
      const parts = [failed.length > 0 && `${failed.length} of its volumes`, logLeft && 'its serial log'].filter(Boolean).join(' and ');
      throw new PartialError(
        `VM ${JSON.stringify(name)} was deleted, but ${parts} could not be removed (${[...failed, ...(logLeft ? [logLeft] : [])].map((f) => f.why).join('; ')})`,
        [...failed, ...(logLeft ? [logLeft] : [])].map((f) => `${f.what} (remove with: ${f.manual})`),
        'run the commands listed above once the cause is fixed',
      );
    }
    report(ctx, name, opts.removeStorage === true, removed, decisions.filter((d) => !d.remove));
  });
}

/**
 * undefine; a transient VM is already gone once it is powered off. Its
 * failure is classified from this one run: undefine is never run twice.
 */
async function undefine(ctx: Context, name: string, poweredOff: boolean): Promise<void> {
  const result = await ctx.virsh.attempt(domainCalls.undefine(name));
  if (result.exitCode === 0) return;
  const err = result.error();
  if (err instanceof NotFoundError) return;
  err.message += poweredOff ? '; it was powered off but is still defined, and nothing was deleted' : '; nothing was deleted';
  throw err;
}

/**
 * The log file is seen as a volume only after a refresh; it may not exist (the
 * VM never ran). Returns what is left when it could not be removed.
 */
async function removeLog(ctx: Context, pool: string, volume: string): Promise<{ what: string; manual: string; why: string } | undefined> {
  const refresh = poolCalls.refresh(pool);
  const remove = volumeCalls.delete(pool, volume);
  const left = (why: string) => ({ what: `serial log ${pool}/${volume}, if it exists`, manual: `${ctx.virsh.manual(refresh)} && ${ctx.virsh.manual(remove)}`, why });
  try {
    await ctx.virsh.run(refresh);
  } catch (err) {
    return left(err instanceof Error ? err.message : String(err));
  }
  const result = await ctx.virsh.attempt(remove);
  if (result.exitCode === 0) return undefined;
  const err = result.error();
  if (err instanceof NotFoundError) return undefined;
  return { ...left(err.message), what: `serial log ${pool}/${volume}`, manual: ctx.virsh.manual(remove) };
}

export const deleteCommand = vmsDeleteVerb('delete', 'delete a VM (refused while it runs, unless --force); --remove-storage removes its own volumes', runVmDelete, {
  ifExists: { kind: 'vm' },
  options,
  examples: ['kvmctl vm delete web1', 'kvmctl vm delete web1 --remove-storage', 'kvmctl vm delete web1 --force --remove-storage'],
});

function report(ctx: Context, name: string, removeStorage: boolean, removed: StorageDecision[], kept: StorageDecision[]): void {
  const ref = (d: StorageDecision) => (d.pool ? `${d.pool}/${d.volume}` : d.path);
  const disk = (d: StorageDecision) => ({ target: d.target, pool: d.pool ?? null, volume: d.volume ?? null, path: d.path });
  const json = {
    changed: !ctx.dryRun,
    name,
    removed: removed.map(disk),
    kept: kept.map((d) => ({ ...disk(d), reason: d.reason ?? null })),
  };
  if (ctx.out.json) return ctx.out.printJson(json);
  const lines = [`vm ${name} deleted`];
  if (!removeStorage) lines.push('  its disks were kept (add --remove-storage to remove them)');
  for (const d of removed) lines.push(`  removed ${ref(d)}`);
  for (const d of kept) lines.push(`  kept ${ref(d)}: ${d.reason}`);
  ctx.out.done(lines.join('\n'), json);
}
