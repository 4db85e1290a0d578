import type { Context } from '../../context.js';
import type { VolumeRecord, VolumeUser } from '../../libvirt/storage.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { validateName } from '../../validate/names.js';
import { describePath, describeUsers, readStorage, requirePool, usersOf, volumeJson, type StorageView } from '../../storage/inventory.js';
import { kvmctlCommand } from '../../exec/command.js';
import { IMAGE_DIR } from '../../images/store.js';

export interface VolumeRow {
  volume: VolumeRecord;
  /** The backing file as POOL/NAME when it is a volume kvmctl knows. */
  backing?: string;
  users: VolumeUser[];
}

export const volumeColumns: Column<VolumeRow>[] = [
  { header: 'POOL', value: (r) => r.volume.pool },
  { header: 'NAME', value: (r) => r.volume.name },
  { header: 'FORMAT', value: (r) => r.volume.format },
  { header: 'CAPACITY', value: (r) => formatBytes(r.volume.capacityBytes) },
  { header: 'ALLOCATION', value: (r) => formatBytes(r.volume.allocationBytes) },
  { header: 'BACKING', value: (r) => r.backing },
  {
    header: 'USED BY',
    value: (r) => describeUsers(r.users),
    color: (t, r, c) => (r.users.some((u) => u.active) ? c.green(t) : t),
  },
];

/**
 * kvmctl's image store (`.kvmctl-images`: image records and partial
 * downloads) is a directory in the pool, which libvirt lists as a volume of
 * type dir. It is no volume to use, so lists leave it out; `ls` still shows it.
 */
export function isImageStore(volume: Pick<VolumeRecord, 'name' | 'type'>): boolean {
  return volume.name === IMAGE_DIR && volume.type === 'dir';
}

export function volumeRows(view: StorageView, volumes: VolumeRecord[]): VolumeRow[] {
  return volumes.map((volume) => ({ volume, backing: describePath(view, volume.backingFile), users: usersOf(view, volume) }));
}

export async function runVolumeList(ctx: Context, opts: { pool?: string }): Promise<void> {
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
