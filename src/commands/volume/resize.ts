import { arg, flag, type OptionsOf } from '../../verb.js';
import { volumeVerb } from './one-volume.js';
import { OVERCOMMIT_HELP } from '../../storage/volume-checks.js';
import type { Context } from '../../context.js';
import { RefusedError, UsageError } from '../../errors.js';
import { poolCalls, volumeCalls } from '../../libvirt/storage.js';
import { formatBytes, MAX_SIZE_BYTES, parseSize } from '../../units/size.js';
import { dependentsOf, describeUsers, readStorage, refuseForeignBacking, refuseOutsidePool, requireVolume, usersOf } from '../../storage/inventory.js';
import { volumeResult } from '../../storage/volume-json.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { parseVolumeRef } from '../../storage/volume-ref.js';
import { checkFreeSpace, roundToSector } from '../../storage/volume-checks.js';

export const options = {
  shrink: flag('--shrink', 'allow making it smaller (data beyond the new size is lost)'),
  allowOvercommit: flag('--allow-overcommit', OVERCOMMIT_HELP),
};
export type VolumeResizeOptions = OptionsOf<typeof options>;

export type SizeChange = { kind: 'absolute'; bytes: number } | { kind: 'grow'; bytes: number };

/** "20G" (the new size) or "+5G" (grow by); "-5G" is refused: shrinking takes an absolute size and --shrink. */
export function parseSizeChange(text: string): SizeChange {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) {
    throw new UsageError(`invalid size ${JSON.stringify(text)}: negative sizes are not accepted`, 'to shrink, give the new absolute size and --shrink, e.g. 10G --shrink');
  }
  if (trimmed.startsWith('+')) return { kind: 'grow', bytes: parseSize(trimmed.slice(1), 'size') };
  return { kind: 'absolute', bytes: parseSize(trimmed, 'size') };
}

export function newCapacity(current: number, change: SizeChange): number {
  const bytes = roundToSector(change.kind === 'grow' ? current + change.bytes : change.bytes);
  if (bytes > MAX_SIZE_BYTES) throw new UsageError(`the new size ${formatBytes(bytes)} is larger than 1 EiB`, 'give a realistic size such as 20G');
  return bytes;
}

export async function runVolumeResize(ctx: Context, volume: string, size: string, o: VolumeResizeOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  const ref = parseVolumeRef(volume);
  const change = parseSizeChange(size);
  const view = await readStorage(ctx);
  const vol = requireVolume(view, ref);
  const pool = view.pools.find((p) => p.name === ref.pool)!;
  await refuseOutsidePool(ctx, pool, vol, files, 'resize');
  // libvirt resizes a volume it probed as qcow2 with qemu-img resize, which opens the backing file and rewrites the header.
  refuseForeignBacking(view, vol, 'resize');
  const current = vol.capacityBytes ?? 0;
  const target = newCapacity(current, change);
  const result = (changed: boolean, live: string | null) => ({ ...volumeResult(changed, view, { ...vol, capacityBytes: target }), previousCapacityBytes: current, live });
  if (target === current) return ctx.out.done(`volume ${volume} is already ${formatBytes(target)}: unchanged`, result(false, null), `${ref.pool}/${ref.volume}`);

  const shrinking = target < current;
  const running = usersOf(view, vol).filter((u) => u.active);
  if (shrinking) {
    if (!o.shrink) {
      throw new RefusedError(
        `shrinking ${volume} from ${formatBytes(current)} to ${formatBytes(target)} would cut off whatever the guest stored beyond ${formatBytes(target)}`,
        'shrink the filesystems inside the guest first, then pass --shrink',
      );
    }
    if (running.length > 0) throw new RefusedError(`${volume} is in use by running VM(s) ${describeUsers(running)}; a live disk can only grow`, 'shut the VM down first (kvmctl vm stop VM)');
    const overlays = dependentsOf(view, vol);
    if (overlays.length > 0) {
      throw new RefusedError(`${volume} is the backing file of ${overlays.map((d) => `${d.pool}/${d.name}`).join(', ')}; shrinking it would corrupt them`, 'delete or convert those overlays first');
    }
  } else {
    checkFreeSpace(pool, target - current, Boolean(o.allowOvercommit), `growing ${volume} by ${formatBytes(target - current)}`);
  }

  const from = formatBytes(current);
  if (running.length > 1) {
    throw new RefusedError(`${volume} is shared by running VMs ${describeUsers(running)}; kvmctl resizes a live disk through exactly one VM`, 'shut down all but one of them first');
  }
  const [live] = running;
  if (live) {
    // QEMU resizes the image it holds open and tells the guest; vol-resize would change the file under it.
    await ctx.virsh.run(volumeCalls.blockResize(live.vm, live.target, target));
    await ctx.virsh.run(poolCalls.refresh(ref.pool));
    return ctx.out.done(`volume ${volume} grown from ${from} to ${formatBytes(target)} while ${live.vm} runs (the guest sees ${live.target} grow)`, result(true, live.vm), `${ref.pool}/${ref.volume}`);
  }
  await ctx.virsh.run(volumeCalls.resize(ref.pool, ref.volume, target, shrinking));
  ctx.out.done(`volume ${volume} ${shrinking ? 'shrunk' : 'grown'} from ${from} to ${formatBytes(target)}`, result(true, null), `${ref.pool}/${ref.volume}`);
}

export const volumeResizeCommand = volumeVerb('resize', 'grow a volume (live through libvirt when a running VM uses it); shrinking needs --shrink', runVolumeResize, {
  args: [arg('<size>', 'new size (20G) or growth (+5G)')],
  options,
  examples: ['kvmctl volume resize default/web1.qcow2 +5G', 'kvmctl volume resize default/web1.qcow2 40G', 'kvmctl volume resize default/web1.qcow2 10G --shrink'],
});
