/** The JSON object of a pool, the one mapping every pool verb prints (docs/json.md; schemas/pool-list.schema.json). */
import type { PoolRecord } from '../../libvirt/storage.js';
import { IMAGE_DIR } from '../../images/store.js';

/** The pool's volumes as libvirt names them, less kvmctl's image store (a directory; see isImageStore); undefined while inactive. */
export function volumeCount(p: Pick<PoolRecord, 'volumes' | 'volumeNames'>): number | undefined {
  return (p.volumeNames ?? p.volumes?.map((v) => v.name))?.filter((name) => name !== IMAGE_DIR).length;
}

/** libvirt's pool-info state, in the vocabulary's words: running -> active; building, degraded, inaccessible, inactive as they are. */
export function poolState(state: string): string {
  const s = state.toLowerCase();
  return s === 'running' ? 'active' : s;
}

/** Every key present, null where libvirt gave nothing (an inactive pool has no sizes and no volume count). */
export function poolJson(p: PoolRecord) {
  return {
    name: p.name,
    uuid: p.uuid ?? null,
    type: p.type,
    state: poolState(p.state),
    active: p.active,
    autostart: p.autostart,
    persistent: p.persistent,
    targetPath: p.targetPath ?? null,
    capacityBytes: p.capacityBytes ?? null,
    allocationBytes: p.allocationBytes ?? null,
    availableBytes: p.availableBytes ?? null,
    source: {
      host: p.source.host ?? null,
      dir: p.source.dir ?? null,
      devices: p.source.devices,
      name: p.source.name ?? null,
      format: p.source.format ?? null,
    },
    volumeCount: volumeCount(p) ?? null,
  };
}

export type PoolJson = ReturnType<typeof poolJson>;

/** A pool after start or stop: libvirt's words for the new state, and no sizes or volumes while it is inactive. */
export function withActive(p: PoolRecord, active: boolean): PoolRecord {
  if (active) return { ...p, state: 'running', active: true, volumes: p.volumes ?? [] };
  return { ...p, state: 'inactive', active: false, capacityBytes: undefined, allocationBytes: undefined, availableBytes: undefined, volumes: undefined };
}

/** `{changed, ...pool}`: what every pool mutation prints. */
export function poolResult(changed: boolean, p: PoolRecord) {
  return { changed, ...poolJson(p) };
}
