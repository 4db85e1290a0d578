import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { PartialError, RefusedError } from '../../errors.js';
import { withSpinner } from '../../output/spinner.js';
import { isLocalUri, poolCalls, volumeCalls, type PoolRecord } from '../../libvirt/storage.js';
import { backingChainUses, describeChainUses, type ChainUse } from '../../storage/chains.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { libvirtMessage } from '../../libvirt/virsh.js';
import { diskPath } from '../../libvirt/domain-xml.js';
import { dependentsOf, isDirectoryPool, readStorage, requirePool, usersOf, type StorageView } from '../../storage/inventory.js';
import { validateName } from '../../validate/names.js';
import { kvmctlCommand } from '../../exec/command.js';
import { flag, verb, type OptionsOf } from '../../verb.js';
import { poolNameArg } from './one-pool.js';

export const options = {
  force: flag('--force', 'delete even though the pool holds volumes (their files stay unless --purge)'),
  purge: flag('--purge', "also delete the pool's volumes and its then empty directory (nothing else)"),
};
export type PoolDeleteOptions = OptionsOf<typeof options>;

/** "vol by VM (state)" for every VM disk in the pool; for an inactive pool, by pool name and path. */
function usesOfPool(view: StorageView, pool: PoolRecord): string[] {
  if (pool.volumes) {
    return pool.volumes.flatMap((v) => usersOf(view, { pool: pool.name, ...v }).map((u) => `${v.name} by ${u.vm} (${u.state})`));
  }
  const dir = pool.targetPath;
  return view.domains.flatMap((d) =>
    d.definition.disks
      .filter((disk) => disk.source?.pool === pool.name || (dir !== undefined && posix.dirname(diskPath(disk) ?? '') === dir))
      .map((disk) => `${disk.source?.volume ?? diskPath(disk)} by ${d.name} (${d.state})`),
  );
}

/** The first names of a long list, and how many more: a refusal stays readable for a pool of thousands. */
function someOf(names: string[], shown = 10): string {
  return names.length > shown ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more` : names.join(', ');
}

/** vol-delete commands per virsh process: few processes, and progress that moves on a terminal. */
const DELETES_PER_BATCH = 250;

/**
 * Deletes the volumes in batches (one virsh process per batch, not per volume),
 * with a count on a terminal. Stops before the next batch once kvmctl is told to
 * stop (Ctrl-C, SIGTERM); a volume libvirt could not delete keeps the pool, and
 * the error names what is left.
 */
async function purgeVolumes(ctx: Context, pool: string, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const label = `deleting the volumes of storage pool ${pool}`;
  const { out, stderr, ran } = await withSpinner(ctx, label, (update) =>
    ctx.virsh.batchWithStderr(
      { deleted: names.map((v) => volumeCalls.delete(pool, v)) },
      { commands: DELETES_PER_BATCH, signal: ctx.signal, onProgress: (done, total) => update(`${label}: ${done} of ${total}`) },
    ),
  );
  const printed = out.deleted;
  // virsh prints "Vol NAME deleted" for each volume it deleted; under --dry-run nothing ran and nothing printed.
  const deleted = names.filter((_, i) => ctx.dryRun || (printed[i] ?? '').trim() !== '');
  if (deleted.length === names.length) return deleted;
  const left = names.filter((_, i) => !ctx.dryRun && (printed[i] ?? '').trim() === '');
  const why = ran < names.length ? 'interrupted' : libvirtMessage(stderr);
  const shown = left.slice(0, 20).map((v) => `volume ${pool}/${v} (remove with: ${ctx.virsh.manual(volumeCalls.delete(pool, v))})`);
  throw new PartialError(
    `storage pool ${pool}: ${deleted.length} of ${names.length} volume(s) deleted, ${left.length} left (${why}); the pool was kept`,
    left.length > shown.length ? [...shown, `and ${left.length - shown.length} more`] : shown,
    `fix the cause and run the same command again: it deletes what is left (${kvmctlCommand(ctx.uri, 'volume', 'list', '--pool', pool)})`,
  );
}

export async function runPoolDelete(ctx: Context, name: string, o: PoolDeleteOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  validateName('pool', name);
  const view = await readStorage(ctx);
  const pool = requirePool(view, name);

  const uses = usesOfPool(view, pool);
  if (uses.length > 0) {
    throw new RefusedError(`storage pool ${name} has volumes used by VMs: ${uses.join(', ')}`, 'remove those disks from the VMs (or delete the VMs) first; --force does not override this');
  }
  const volumes = view.volumes.filter((v) => v.pool === name);
  if (!pool.active && !o.force) {
    throw new RefusedError(`storage pool ${name} is inactive, so kvmctl cannot see whether it holds volumes`, `start it (${kvmctlCommand(ctx.uri, 'pool', 'start', name)}) and run this again, or pass --force`);
  }
  if (volumes.length > 0 && !o.force) {
    throw new RefusedError(
      `storage pool ${name} holds ${volumes.length} volume(s): ${someOf(volumes.map((v) => v.name))}`,
      `delete them first (${kvmctlCommand(ctx.uri, 'volume', 'delete', `${name}/NAME`)}), or pass --force to remove the pool and keep the files${o.purge ? '' : ' (add --purge to delete them too)'}`,
    );
  }
  if (o.purge) {
    const outside = volumes.flatMap((v) => dependentsOf(view, v).filter((d) => d.pool !== name).map((d) => `${d.pool}/${d.name} on ${v.name}`));
    if (outside.length > 0) {
      throw new RefusedError(`storage pool ${name} holds backing files of volumes in other pools: ${outside.join(', ')}`, 'delete or convert those overlays first (kvmctl volume convert)');
    }
  }

  // libvirt lists a subdirectory as a volume and would delete it recursively: purge only deletes images.
  const directories = volumes.filter((v) => v.type === 'dir');
  // Hidden files are no image anyone made with kvmctl or virsh by name; --purge leaves them and says so.
  const hidden = volumes.filter((v) => v.type !== 'dir' && v.name.startsWith('.'));
  // A base image under a VM's overlay (wherever that overlay lives) stays: deleting it would break the VM's disk.
  const chains = o.purge && isLocalUri(ctx.uri) ? await backingChainUses(view.domains, files) : new Map<string, ChainUse[]>();
  const chained = volumes.filter((v) => v.type !== 'dir' && !v.name.startsWith('.') && chains.has(v.path));
  const purged = volumes.filter((v) => v.type !== 'dir' && !v.name.startsWith('.') && !chains.has(v.path));
  const deleted = o.purge ? await purgeVolumes(ctx, name, purged.map((v) => v.name)) : [];
  if (pool.active) await ctx.virsh.run(poolCalls.destroy(name));
  let dirNote = pool.targetPath ? `; ${pool.targetPath} was kept` : '';
  if (o.purge && isDirectoryPool(pool)) {
    // pool-delete removes the target directory only when it is empty: files libvirt did not list stay.
    const r = await ctx.virsh.attempt(poolCalls.delete(name));
    dirNote = r.exitCode === 0 ? `; ${pool.targetPath} was removed` : `; ${pool.targetPath} was kept: ${r.stderr.trim().split('\n').pop()?.replace(/^error:\s*/, '')}`;
  }
  if (pool.persistent) await ctx.virsh.run(poolCalls.undefine(name));
  const kept = o.purge
    ? `, ${deleted.length} volume(s) deleted${directories.length > 0 ? ` (subdirectories kept: ${directories.map((d) => d.name).join(', ')})` : ''}${hidden.length > 0 ? ` (hidden files kept: ${hidden.map((d) => d.name).join(', ')})` : ''}${chained.map((v) => ` (kept ${v.name}: in the backing chain of ${describeChainUses(chains.get(v.path) ?? [])})`).join('')}`
    : volumes.length > 0
      ? `, its ${volumes.length} volume file(s) kept`
      : '';
  ctx.out.done(`storage pool ${name} deleted${kept}${dirNote}`, { name, deleted: true, volumesDeleted: deleted, volumesKept: chained.map((v) => v.name), targetPath: pool.targetPath ?? null, purged: Boolean(o.purge) });
}

export const poolDeleteCommand = verb({
  name: 'delete',
  description: 'stop and undefine a pool; refused (exit 5) while it holds volumes unless --force, and always while VMs use them',
  args: [poolNameArg],
  options,
  examples: ['kvmctl pool delete scratch', 'kvmctl pool delete scratch --force', 'kvmctl pool delete scratch --force --purge'],
  notes:
    "\nWithout --purge the directory and every file in it stay. With --purge only the\nvolumes libvirt lists are deleted (a base image a VM's overlay stands on, wherever\nthat overlay is, is kept and named); the directory is removed only if that empties it;\na logical pool's volume group is kept. Volumes are deleted a few hundred per virsh\nprocess, with a count on a terminal; if libvirt cannot delete one, the pool is kept\nand the error (exit 8) names what is left: run the same command again.\n",
  run: (ctx, name, o) => runPoolDelete(ctx, name, o),
});
