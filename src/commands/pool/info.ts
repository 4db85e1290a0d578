import type { Context } from '../../context.js';
import { validateName } from '../../validate/names.js';
import { formatBytes } from '../../units/size.js';
import { readStorage, requirePool } from '../../storage/inventory.js';
import { volumeJson } from '../../storage/volume-json.js';
import { isImageStore, volumeColumns, volumeRows } from '../../storage/volume-table.js';
import { poolJson, volumeCount } from './pool-json.js';
import { kvmctlCommand } from '../../exec/command.js';
import { arg, verb } from '../../verb.js';

export async function runPoolInfo(ctx: Context, name: string): Promise<void> {
  validateName('pool', name);
  const view = await readStorage(ctx, { pools: [name] });
  const pool = requirePool(view, name);
  const s = pool.source;
  const volumes = view.volumes.filter((v) => v.pool === pool.name && !isImageStore(v));
  // Source rows only where the pool type has them (a dir pool has none).
  const source: Array<[string, string | undefined]> = [
    ['source host', s.host],
    ['source path', s.dir],
    ['source devices', s.devices.join(', ') || undefined],
    ['volume group', pool.type === 'logical' ? s.name : undefined],
    ['source format', s.format],
  ];
  ctx.out.details(
    [
      ['name', pool.name],
      ['uuid', pool.uuid],
      ['type', pool.type],
      ['state', pool.state],
      ['autostart', pool.autostart],
      ['persistent', pool.persistent],
      ['path', pool.targetPath],
      ...source.filter(([, v]) => v !== undefined),
      ['capacity', formatBytes(pool.capacityBytes)],
      ['allocation', formatBytes(pool.allocationBytes)],
      ['available', formatBytes(pool.availableBytes)],
      ['volumes', volumeCount(pool) ?? 'unknown (pool inactive)'],
    ],
    [
      {
        title: 'Volumes',
        columns: volumeColumns.filter((c) => c.header !== 'POOL'),
        rows: volumeRows(view, volumes),
        empty: pool.active ? 'no volumes' : `unknown: the pool is inactive (${kvmctlCommand(ctx.uri, 'pool', 'start', pool.name)})`,
      },
    ],
    { ...poolJson(pool), volumes: pool.active ? volumes.map((v) => volumeJson(view, v)) : null },
  );
}

export const poolInfoCommand = verb('info', "show a pool's definition, sizes, source and volumes (with the VMs using them)", runPoolInfo, {
  args: [arg('<name>', 'pool name')],
  examples: ['kvmctl pool info default', 'kvmctl pool info default -o json'],
});
