import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { PartialError, RefusedError } from '../../errors.js';
import { countLine, withSpinner } from '../../output/spinner.js';
import { isLocalUri, poolCalls, volumeCalls, type PoolRecord, type VolumeRecord } from '../../libvirt/storage.js';
import { removeFiles } from '../../storage/local-write.js';
import { backingChainUses, describeChainUses, type ChainUse } from '../../storage/chains.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { libvirtMessage } from '../../libvirt/virsh.js';
import { diskUsesOf } from '../../libvirt/disk-uses.js';
import { dependentsOf, isDirectoryPool, readStorage, requirePool, usersOf, type StorageView } from '../../storage/inventory.js';
import { validateName } from '../../validate/names.js';
import { kvmctlCommand } from '../../exec/command.js';
import { flag, names, verb, type OptionsOf } from '../../verb.js';

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
  return (view.diskUses ?? diskUsesOf(view.domains))
    .filter((use) => use.pool === pool.name || (dir !== undefined && posix.dirname(use.path ?? '') === dir))
    .map((use) => `${use.volume ?? use.path} by ${use.vm} (${use.state})`);
}

/** The first names of a long list, and how many more: a refusal stays readable for a pool of thousands. */
function someOf(names: string[], shown = 10): string {
  return names.length > shown ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more` : names.join(', ');
}

/** Volumes deleted per process (vol-delete commands in one virsh, or files in one rm): few processes, and progress that moves on a terminal. */
const DELETES_PER_BATCH = 250;

/**
 * The volumes whose files kvmctl removes itself: plain files of a directory
 * pool on this machine, named after the volume in the pool's directory. For
 * those, libvirt's vol-delete is an unlink of that path (a symlink goes, not
 * what it points to; a missing file is no error), at about 1 ms of round trips
 * each; `rm -f` of 250 paths costs one process. Everything else is libvirt's.
 */
function removableFiles(ctx: Context, pool: PoolRecord, volumes: VolumeRecord[]): Set<VolumeRecord> {
  const dir = pool.targetPath?.replace(/\/+$/, '');
  if (!isLocalUri(ctx.uri) || !isDirectoryPool(pool) || dir === undefined || dir === '') return new Set();
  return new Set(volumes.filter((v) => v.type === 'file' && !v.name.includes('/') && v.path === `${dir}/${v.name}`));
}

/**
 * Deletes the volumes in batches (one process per batch, not per volume),
 * with a count on a terminal: files of a local directory pool with rm, the
 * rest (and files rm could not remove, so that libvirt says why) with
 * vol-delete in one virsh process a batch. Stops before the next batch once
 * kvmctl is told to stop (Ctrl-C, SIGTERM); a volume that could not be
 * deleted keeps the pool, and the error names what is left.
 */
async function purgeVolumes(ctx: Context, pool: PoolRecord, volumes: VolumeRecord[]): Promise<string[]> {
  if (volumes.length === 0) return [];
  const name = pool.name;
  const label = `deleting the volumes of storage pool ${name}`;
  const files = removableFiles(ctx, pool, volumes);
  const gone = new Set<string>();
  let interrupted = false;
  const { stderr } = await withSpinner(ctx, label, async (update) => {
    const byLibvirt = volumes.filter((v) => !files.has(v));
    const asFiles = volumes.filter((v) => files.has(v));
    for (let i = 0; i < asFiles.length; i += DELETES_PER_BATCH) {
      if (ctx.signal.aborted) {
        interrupted = true;
        return { stderr: '' };
      }
      const part = asFiles.slice(i, i + DELETES_PER_BATCH);
      // rm names a failed file only in its message: libvirt retries the batch and says which one failed, and why.
      if (await removeFiles(ctx.runner, part.map((v) => v.path))) part.forEach((v) => gone.add(v.name));
      else byLibvirt.push(...part);
      update(countLine(label, gone.size, volumes.length));
    }
    const names = byLibvirt.map((v) => v.name);
    if (names.length === 0) return { stderr: '' };
    const { out, stderr, ran } = await ctx.virsh.batchWithStderr(
      { deleted: names.map((v) => volumeCalls.delete(name, v)) },
      { commands: DELETES_PER_BATCH, signal: ctx.signal, onProgress: (done) => update(countLine(label, gone.size + done, volumes.length)) },
    );
    // virsh prints "Vol NAME deleted" for each volume it deleted; under --dry-run nothing ran and nothing printed.
    names.forEach((v, i) => {
      if (ctx.dryRun || (out.deleted[i] ?? '').trim() !== '') gone.add(v);
    });
    if (ran < names.length) interrupted = true;
    return { stderr };
  });
  const deleted = volumes.map((v) => v.name).filter((v) => ctx.dryRun || gone.has(v));
  if (deleted.length === volumes.length) return deleted;
  const left = volumes.map((v) => v.name).filter((v) => !gone.has(v));
  const why = interrupted ? 'interrupted' : libvirtMessage(stderr);
  const shown = left.slice(0, 20).map((v) => `volume ${name}/${v} (remove with: ${ctx.virsh.manual(volumeCalls.delete(name, v))})`);
  throw new PartialError(
    `storage pool ${name}: ${deleted.length} of ${volumes.length} volume(s) deleted, ${left.length} left (${why}); the pool was kept`,
    left.length > shown.length ? [...shown, `and ${left.length - shown.length} more`] : shown,
    `fix the cause and run the same command again: it deletes what is left (${kvmctlCommand(ctx.uri, 'volume', 'list', '--pool', name)})`,
  );
}

/**
 * Stops the pool, removes its directory when asked (pool-delete removes it
 * only when it is empty: files libvirt did not list stay), and undefines it.
 * pool-delete and pool-undefine share one virsh process: undefine runs
 * whether or not the directory could go, and each says by its own output
 * whether it did. The note says what became of the directory.
 */
async function removePool(ctx: Context, pool: PoolRecord, removeDir: boolean): Promise<string> {
  const name = pool.name;
  if (pool.active) await ctx.virsh.run(poolCalls.destroy(name));
  const kept = pool.targetPath ? `; ${pool.targetPath} was kept` : '';
  if (!removeDir) {
    if (pool.persistent) await ctx.virsh.run(poolCalls.undefine(name));
    return kept;
  }
  const dirNote = (removed: boolean, stderr: string) => (removed ? `; ${pool.targetPath} was removed` : `${kept}: ${libvirtMessage(stderr)}`);
  if (!pool.persistent) {
    const r = await ctx.virsh.attempt(poolCalls.delete(name));
    return dirNote(r.exitCode === 0, r.stderr);
  }
  // virsh prints "Pool NAME deleted" and "Pool NAME has been undefined"; under --dry-run nothing ran and nothing printed.
  const { out, stderr } = await ctx.virsh.batchWithStderr({ deleted: poolCalls.delete(name), undefined: poolCalls.undefine(name) });
  if (!ctx.dryRun && out.undefined.trim() === '') throw ctx.virsh.failed(poolCalls.undefine(name), stderr);
  return dirNote(ctx.dryRun || out.deleted.trim() !== '', stderr);
}

export async function runPoolDelete(ctx: Context, name: string, o: PoolDeleteOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  validateName('pool', name);
  // Who uses the pool's volumes (and, for --purge, every VM whose disk chain may reach into it), not every VM's XML.
  const local = isLocalUri(ctx.uri);
  const view = await readStorage(ctx, { users: { readonly: false, chains: o.purge && local ? files : undefined } });
  const pool = requirePool(view, name);

  const uses = usesOfPool(view, pool);
  if (uses.length > 0) {
    throw new RefusedError(
      `storage pool ${name} has volumes used by VMs: ${someOf(uses)}`,
      `remove those disks from the VMs (or delete the VMs) first; --force does not override this. Every user is in the USED BY column of: ${kvmctlCommand(ctx.uri, 'volume', 'list', '--pool', name)}`,
    );
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
  // view.domains holds every VM a disk header of which names a backing file (readStorage's chains).
  const chains = o.purge && local ? await backingChainUses(view.domains, files) : new Map<string, ChainUse[]>();
  const chained = volumes.filter((v) => v.type !== 'dir' && !v.name.startsWith('.') && chains.has(v.path));
  const purged = volumes.filter((v) => v.type !== 'dir' && !v.name.startsWith('.') && !chains.has(v.path));
  const deleted = o.purge ? await purgeVolumes(ctx, pool, purged) : [];
  const dirNote = await removePool(ctx, pool, Boolean(o.purge) && isDirectoryPool(pool));
  const kept = o.purge
    ? `, ${deleted.length} volume(s) deleted${directories.length > 0 ? ` (subdirectories kept: ${directories.map((d) => d.name).join(', ')})` : ''}${hidden.length > 0 ? ` (hidden files kept: ${hidden.map((d) => d.name).join(', ')})` : ''}${chained.map((v) => ` (kept ${v.name}: in the backing chain of ${describeChainUses(chains.get(v.path) ?? [])})`).join('')}`
    : volumes.length > 0
      ? `, its ${volumes.length} volume file(s) kept`
      : '';
  ctx.out.done(`storage pool ${name} deleted${kept}${dirNote}`, { changed: true, name, volumesDeleted: deleted, volumesKept: chained.map((v) => v.name), targetPath: pool.targetPath ?? null, purged: Boolean(o.purge) });
}

export const poolDeleteCommand = verb('delete', 'stop and undefine a pool; refused (exit 5) while it holds volumes unless --force, and always while VMs use them', runPoolDelete, {
  args: [names('<name...>', 'pool name(s)', { kind: 'pool', serial: "--purge keeps a volume that backs one in another pool, as read before each delete; pools purged at once would each see the others' volumes still there" })],
  ifExists: { kind: 'pool' },
  options,
  examples: ['kvmctl pool delete scratch', 'kvmctl pool delete scratch --force', 'kvmctl pool delete scratch --force --purge'],
  notes:
    "\nWithout --purge the directory and every file in it stay. With --purge only the\nvolumes libvirt lists are deleted (a base image a VM's overlay stands on, wherever\nthat overlay is, is kept and named); the directory is removed only if that empties it;\na logical pool's volume group is kept. Volumes are deleted a few hundred per process\n(rm of the files of a directory pool on this machine, a volume that is a symlink as\nthe link; libvirt's vol-delete otherwise), with a count on a terminal; if one cannot\nbe deleted, the pool is kept and the error (exit 8) names what is left: run the same\ncommand again.\n",
});
