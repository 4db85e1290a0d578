import type { Context } from '../../context.js';
import { loadPools, type PoolRecord } from '../../libvirt/storage.js';
import type { Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { verb } from '../../verb.js';
import { poolJson, volumeCount } from './pool-json.js';

export const poolColumns: Column<PoolRecord>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'TYPE', value: (p) => p.type },
  {
    header: 'STATE',
    value: (p) => p.state,
    color: (t, p, c) => (p.state === 'running' ? c.green(t) : p.active ? c.yellow(t) : c.dim(t)),
  },
  { header: 'AUTOSTART', value: (p) => p.autostart },
  { header: 'PATH', value: (p) => p.targetPath },
  { header: 'CAPACITY', value: (p) => formatBytes(p.capacityBytes) },
  { header: 'ALLOCATION', value: (p) => formatBytes(p.allocationBytes) },
  { header: 'AVAILABLE', value: (p) => formatBytes(p.availableBytes) },
  { header: 'VOLUMES', value: (p) => volumeCount(p) },
];

export async function runPoolList(ctx: Context): Promise<void> {
  // VOLUMES is a count: the names do, where their paths cost libvirtd a round trip per volume.
  const pools = await loadPools(ctx.runner, ctx.uri, undefined, { namesOnly: true });
  if (pools.length === 0 && !ctx.out.json) {
    ctx.out.info('no storage pools are defined; create one with: kvmctl pool create NAME --type dir --path DIR');
    return;
  }
  ctx.out.list(poolColumns, pools, pools.map(poolJson));
}

export const poolListCommand = verb('list', 'list all pools: type, state, autostart, path, capacity, allocation, available, volumes', runPoolList, {
  examples: ['kvmctl pool list', 'kvmctl pool list -o json'],
  fanOut: true,
  listColumns: poolColumns,
});
