import { value, verb, type OptionsOf } from '../../verb.js';
import type { Context } from '../../context.js';
import { validateName } from '../../validate/names.js';
import { readStorage, requirePool } from '../../storage/inventory.js';
import { volumeJson } from '../../storage/volume-json.js';
import { isImageStore, volumeColumns, volumeRows } from '../../storage/volume-table.js';
import { kvmctlCommand } from '../../exec/command.js';

export const options = {
  pool: value('--pool <pool>', 'only this pool'),
};
export type VolumeListOptions = OptionsOf<typeof options>;

export async function runVolumeList(ctx: Context, opts: VolumeListOptions): Promise<void> {
  if (opts.pool !== undefined) validateName('pool', opts.pool);
  // USED BY needs who uses the listed volumes, not every VM's definition; JSON also shows their readonly flags.
  const view = await readStorage(ctx, { pools: opts.pool === undefined ? undefined : [opts.pool], users: { readonly: ctx.out.json } });
  if (opts.pool !== undefined) requirePool(view, opts.pool);
  for (const p of view.pools.filter((p) => !p.active)) {
    ctx.out.warn(`pool ${p.name} is inactive: its volumes are not listed (${kvmctlCommand(ctx.uri, 'pool', 'start', p.name)})`);
  }
  const volumes = view.volumes.filter((v) => !isImageStore(v));
  const rows = volumeRows(view, volumes);
  if (rows.length === 0 && !ctx.out.json) {
    ctx.out.info(opts.pool ? `pool ${opts.pool} holds no volumes` : 'no volumes in any active pool');
    return;
  }
  // The JSON objects only when they are printed: at 5000 volumes they are a second copy of every row.
  ctx.out.list(volumeColumns, rows, ctx.out.json ? volumes.map((v) => volumeJson(view, v)) : rows);
}

export const volumeListCommand = verb('list', 'list volumes of all pools (or one): format, sizes, backing file, and the VMs using each', runVolumeList, {
  options,
  examples: ['kvmctl volume list', 'kvmctl volume list --pool default -o json'],
  fanOut: true,
  listColumns: volumeColumns,
});
