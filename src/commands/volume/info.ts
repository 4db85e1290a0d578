import type { Context } from '../../context.js';
import { isLocalUri } from '../../libvirt/storage.js';
import type { VolumeUser } from '../../libvirt/storage.js';
import { formatBytes } from '../../units/size.js';
import { describePath, foreignBacking, readStorage, requireVolume } from '../../storage/inventory.js';
import { snapshotJson, volumeJson } from '../../storage/volume-json.js';
import { isImageFormat } from '../../libvirt/disk-formats.js';
import type { ImageInfo, ImageSnapshot } from '../../storage/qemu-img.js';
import { QemuImg } from '../../storage/qemu-img-client.js';
import { parseVolumeRef } from '../../storage/volume-ref.js';
import { snapshotColumns } from './snapshot/target.js';
import { volumeVerb } from './one-volume.js';

interface ChainLink {
  path: string;
  format?: string;
  virtualSizeBytes?: number;
}

/** libvirt's format names -> the driver qemu-img must be told (an ISO is read raw). */
function qemuFormatOf(format: string | undefined): string | undefined {
  if (format === 'iso') return 'raw';
  return isImageFormat(format) ? format : undefined;
}




export async function runVolumeInfo(ctx: Context, volume: string): Promise<void> {
  const ref = parseVolumeRef(volume);
  const view = await readStorage(ctx);
  const vol = requireVolume(view, ref);
  const base = volumeJson(view, vol);

  // qemu-img reads the file itself, so only on this machine; the format is always named.
  const qemuFormat = qemuFormatOf(vol.format);
  let image: ImageInfo | undefined;
  let chain: ChainLink[];
  let snapshots: ImageSnapshot[] | null = null;
  // A chain that leaves the pools is not followed: qemu-img would open that file.
  const outside = foreignBacking(view, vol);
  if (isLocalUri(ctx.uri) && qemuFormat !== undefined) {
    const infos = await new QemuImg(ctx.runner).infoChain(vol.path, qemuFormat, outside === undefined);
    image = infos[0];
    chain = outside === undefined ? infos.slice(1).map((i) => ({ path: i.filename, format: i.format, virtualSizeBytes: i.virtualSizeBytes })) : [{ path: outside, format: undefined }];
    snapshots = image?.snapshots ?? [];
  } else {
    chain = vol.backingFile !== undefined ? [{ path: vol.backingFile, format: vol.backingFormat }] : [];
  }
  const snapshotNote = snapshots !== null ? undefined : isLocalUri(ctx.uri) ? `not a qemu image format (${vol.format ?? 'unknown'})` : 'unavailable: the pool is on a remote host';

  ctx.out.details(
    [
      ['volume', `${vol.pool}/${vol.name}`],
      ['path', vol.path],
      ['format', vol.format],
      ['virtual size', formatBytes(image?.virtualSizeBytes ?? vol.capacityBytes)],
      ['actual size', formatBytes(image?.actualSizeBytes ?? vol.allocationBytes)],
      ['cluster size', formatBytes(image?.clusterSizeBytes)],
      ['qcow2 compat', image?.compat],
      ['backing file', outside !== undefined ? `${outside} (no volume of any pool: not read)` : chain[0] ? `${describePath(view, chain[0].path)} (${chain[0].format ?? 'format unknown'})` : undefined],
      ['snapshots', snapshots?.length ?? snapshotNote],
      ['used by', (base.users ?? []).map((u: VolumeUser) => `${u.vm} (${u.state}, ${u.target}${u.readonly ? ', read-only' : ''})`).join(', ') || 'no VM'],
      ['overlays on it', base.dependents.join(', ') || 'none'],
    ],
    [
      ...(chain.length > 1
        ? [{
            title: 'Backing chain',
            columns: [
              { header: 'FILE', value: (l: ChainLink) => describePath(view, l.path) },
              { header: 'FORMAT', value: (l: ChainLink) => l.format },
              { header: 'VIRTUAL SIZE', value: (l: ChainLink) => formatBytes(l.virtualSizeBytes) },
            ],
            rows: chain,
          }]
        : []),
      ...(snapshots && snapshots.length > 0 ? [{ title: 'Snapshots', columns: snapshotColumns, rows: snapshots }] : []),
    ],
    {
      ...base,
      virtualSizeBytes: image?.virtualSizeBytes ?? vol.capacityBytes ?? null,
      actualSizeBytes: image?.actualSizeBytes ?? vol.allocationBytes ?? null,
      clusterSizeBytes: image?.clusterSizeBytes ?? null,
      dirty: image?.dirty ?? null,
      backingChain: chain.map((l) => ({ path: l.path, format: l.format ?? null, virtualSizeBytes: l.virtualSizeBytes ?? null })),
      snapshots: snapshots === null ? null : snapshots.map((s) => snapshotJson(volume, s)),
    },
  );
}

export const volumeInfoCommand = volumeVerb('info', 'show a volume: format, virtual and actual size, backing chain, internal snapshots, users', runVolumeInfo, {
  examples: ['kvmctl volume info default/web1.qcow2', 'kvmctl volume info default/web1.qcow2 -o json'],
});
