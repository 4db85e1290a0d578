/** pool start | stop | refresh | autostart: one libvirt call each, "unchanged" when already so. */
import type { Context } from '../../context.js';
import { NotFoundError, RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { isLocalUri, loadPools, poolCommands, volumeUsers, type PoolRecord } from '../../libvirt/storage.js';
import { classifyVirshError, runVirsh } from '../../libvirt/virsh.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { missingDirectoryIn, missingPoolDirectory, requirePoolDirectory } from '../../storage/pool-path.js';
import { validateName } from '../../validate/names.js';
import { poolJson } from './list.js';
import { kvmctlCommand } from '../../exec/command.js';

async function loadOne(ctx: Context, name: string): Promise<PoolRecord> {
  validateName('pool', name);
  const [pool] = await loadPools(ctx.runner, ctx.uri, [name]);
  if (!pool) throw new NotFoundError(`storage pool ${JSON.stringify(name)} not found`, 'list the pools with: kvmctl pool list', { object: { kind: 'pool', name } });
  return pool;
}

export async function runPoolStart(ctx: Context, name: string, files: StorageFiles = realStorageFiles): Promise<void> {
  const pool = await loadOne(ctx, name);
  if (pool.active) return ctx.out.done(`storage pool ${name} is already running: unchanged`, { ...poolJson(pool), unchanged: true });
  await requirePoolDirectory(pool, ctx.uri, isLocalUri(ctx.uri), files);
  const start = poolCommands.start(ctx.uri, name);
  const r = await ctx.runner.run(start);
  if (r.exitCode !== 0) {
    const missing = missingDirectoryIn(r.stderr);
    throw missing !== undefined ? missingPoolDirectory(ctx.uri, name, missing) : classifyVirshError(start, r, { kind: 'pool', name }, ctx.uri);
  }
  ctx.out.done(`storage pool ${name} started`, { ...poolJson(pool), state: 'running', active: true });
}

export async function runPoolStop(ctx: Context, name: string): Promise<void> {
  const pool = await loadOne(ctx, name);
  if (!pool.active) return ctx.out.done(`storage pool ${name} is already stopped: unchanged`, { ...poolJson(pool), unchanged: true });
  // A running VM keeps its open files, but a netfs/fs pool would be unmounted under it.
  const domains = await loadDomains(ctx.runner, ctx.uri);
  const inUse = (pool.volumes ?? []).flatMap((v) =>
    volumeUsers(domains, { pool: name, ...v })
      .filter((u) => u.active)
      .map((u) => `${v.name} by ${u.vm}`),
  );
  if (inUse.length > 0) {
    throw new RefusedError(`storage pool ${name} has volumes in use by running VMs: ${inUse.join(', ')}`, 'shut those VMs down first (kvmctl vm stop VM)');
  }
  await runVirsh(ctx.runner, poolCommands.destroy(ctx.uri, name), { kind: 'pool', name });
  ctx.out.done(`storage pool ${name} stopped (its files are untouched)`, { ...poolJson(pool), state: 'inactive', active: false });
}

export async function runPoolRefresh(ctx: Context, name: string): Promise<void> {
  const pool = await loadOne(ctx, name);
  if (!pool.active) throw new RefusedError(`storage pool ${name} is not active, so it cannot be refreshed`, `start it with: ${kvmctlCommand(ctx.uri, 'pool', 'start', name)}`);
  await runVirsh(ctx.runner, poolCommands.refresh(ctx.uri, name), { kind: 'pool', name });
  ctx.out.done(`storage pool ${name} refreshed`, poolJson(pool));
}

export async function runPoolAutostart(ctx: Context, name: string, opts: { disable?: boolean }): Promise<void> {
  const pool = await loadOne(ctx, name);
  const enable = !opts.disable;
  const word = enable ? 'on' : 'off';
  if (pool.autostart === enable) return ctx.out.done(`storage pool ${name} autostart is already ${word}: unchanged`, { ...poolJson(pool), unchanged: true });
  await runVirsh(ctx.runner, poolCommands.autostart(ctx.uri, name, enable), { kind: 'pool', name });
  ctx.out.done(`storage pool ${name} autostart ${word}`, { ...poolJson(pool), autostart: enable });
}
