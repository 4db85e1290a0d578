/** The volume table of `volume list` and `pool info`: one row per volume, with its backing file and users. */
import type { VolumeRecord, VolumeUser } from '../libvirt/storage.js';
import type { Column } from '../output/table.js';
import { formatBytes } from '../units/size.js';
import { describePath, describeUsers, usersOf, type StorageView } from './inventory.js';
import { IMAGE_DIR } from '../images/store.js';

export interface VolumeRow {
  volume: VolumeRecord;
  /** The backing file as POOL/NAME when it is a volume kvmctl knows. */
  backing?: string;
  users: VolumeUser[];
}

export const volumeColumns: Column<VolumeRow>[] = [
  { header: 'POOL', value: (r) => r.volume.pool, name: true },
  { header: 'NAME', value: (r) => r.volume.name, name: true },
  { header: 'FORMAT', value: (r) => r.volume.format },
  { header: 'CAPACITY', value: (r) => formatBytes(r.volume.capacityBytes) },
  { header: 'ALLOCATION', value: (r) => formatBytes(r.volume.allocationBytes) },
  { header: 'BACKING', value: (r) => r.backing },
  {
    header: 'USED BY',
    value: (r) => describeUsers(r.users),
    color: (t, r, c) => (r.users.some((u) => u.active) ? c.green(t) : t),
  },
  { header: 'PATH', value: (r) => r.volume.path, wide: true },
];

export function volumeRows(view: StorageView, volumes: VolumeRecord[]): VolumeRow[] {
  return volumes.map((volume) => ({ volume, backing: describePath(view, volume.backingFile), users: usersOf(view, volume) }));
}

/**
 * kvmctl's image store (`.kvmctl-images`: image records and partial
 * downloads) is a directory in the pool, which libvirt lists as a volume of
 * type dir. It is no volume to use, so lists leave it out; `ls` still shows it.
 */
export function isImageStore(volume: Pick<VolumeRecord, 'name' | 'type'>): boolean {
  return volume.name === IMAGE_DIR && volume.type === 'dir';
}
