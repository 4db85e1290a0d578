import { NEW_NAME_HELP } from '../../validate/names.js';
import { arg, flag, required, value, verb, type OptionsOf } from '../../verb.js';
import { TARGET_FORMATS } from '../../libvirt/disk-formats.js';
import { OVERCOMMIT_HELP } from '../../storage/volume-checks.js';
import type { Context } from '../../context.js';
import { ConflictError, UsageError } from '../../errors.js';
import { thinAllocation, volumeCalls, type VolumeFormat, type VolumeRecord } from '../../libvirt/storage.js';
import { formatBytes, parseSize } from '../../units/size.js';
import { validateName } from '../../validate/names.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { parseVolumeRef, validateNewName, type VolumeRef } from '../../storage/volume-ref.js';
import { findVolume, readStorage, refuseForeignBacking, requireActivePool, requireVolume } from '../../storage/inventory.js';
import { newVolumeResult, volumeResult } from '../../storage/volume-json.js';
import { checkNewVolume, parseTargetFormat, roundToSector, sameSpec } from '../../storage/volume-checks.js';
import { kvmctlCommand } from '../../exec/command.js';

export const options = {
  pool: required('--pool <pool>', 'the pool to create it in'),
  size: value('--size <size>', 'virtual size: 512M, 20G, 1.5T, 20GiB or bytes (default with --backing: the backing size)'),
  format: value('--format <format>', 'image format', { choices: TARGET_FORMATS, default: 'qcow2' }),
  backing: value('--backing <pool/vol>', 'make a thin overlay on this volume (its format is always stated)'),
  allowOvercommit: flag('--allow-overcommit', OVERCOMMIT_HELP),
};
/** --format has a default on the command line; callers in code may leave it out. */
export type VolumeCreateOptions = Omit<OptionsOf<typeof options>, 'format'> & Partial<Pick<OptionsOf<typeof options>, 'format'>>;

export async function runVolumeCreate(ctx: Context, name: string, o: VolumeCreateOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  validateNewName('volume', name);
  validateName('pool', o.pool);
  const format = parseTargetFormat('--format', o.format, 'qcow2');
  const backingRef: VolumeRef | undefined = o.backing !== undefined ? parseVolumeRef(o.backing) : undefined;
  if (backingRef && format !== 'qcow2') throw new UsageError('a volume with --backing must be qcow2 (raw has no backing files)', 'drop --format raw');
  if (o.size === undefined && !backingRef) throw new UsageError('--size is required', 'e.g. --size 20G');
  const askedBytes = o.size !== undefined ? roundToSector(parseSize(o.size, '--size')) : undefined;

  await ctx.withLock(`volume ${o.pool}/${name}`, async () => {
    const view = await readStorage(ctx, { domains: false });
    const pool = requireActivePool(view, o.pool);
    let backing: VolumeRecord | undefined;
    if (backingRef) {
      backing = requireVolume(view, backingRef);
      // The overlay would be read through the base's own backing reference, with the format libvirt probed.
      refuseForeignBacking(view, backing, 'read');
      if (backing.format === undefined) throw new UsageError(`the format of ${o.backing} is unknown to libvirt`, `refresh its pool (${kvmctlCommand(ctx.uri, 'pool', 'refresh', backingRef.pool)}) and check ${kvmctlCommand(ctx.uri, 'volume', 'info', `${backingRef.pool}/${backingRef.volume}`)}`);
      if (askedBytes !== undefined && backing.capacityBytes !== undefined && askedBytes < backing.capacityBytes) {
        throw new UsageError(
          `--size ${o.size} is smaller than the backing volume ${o.backing} (${formatBytes(backing.capacityBytes)})`,
          'an overlay must be at least as large as its backing volume; leave out --size to use the same size',
        );
      }
    }
    const capacityBytes = askedBytes ?? backing?.capacityBytes ?? 0;
    const wanted = { format, capacityBytes, backingFile: backing?.path };
    const existing = findVolume(view, { pool: o.pool, volume: name });
    if (existing) {
      const diffs = sameSpec(existing, wanted);
      if (diffs.length > 0) throw new ConflictError(`volume ${o.pool}/${name} already exists with another spec (${diffs.join('; ')})`, 'choose another name, or delete it first');
      ctx.out.done(`volume ${o.pool}/${name} already exists as asked: unchanged`, volumeResult(false, view, existing, { users: false }), `${o.pool}/${name}`);
      return;
    }
    await checkNewVolume(ctx, pool, name, capacityBytes, Boolean(o.allowOvercommit), `volume ${o.pool}/${name}`, files);

    await ctx.virsh.run(
      volumeCalls.create({
        pool: o.pool,
        name,
        capacityBytes,
        // Thin from the start where the pool holds files: libvirt fully allocates a raw volume otherwise.
        allocationBytes: thinAllocation(pool.type),
        format: format as VolumeFormat,
        backingPath: backing?.path,
        backingFormat: backing?.format as VolumeFormat | undefined,
      }),
    );
    ctx.out.done(
      `volume ${o.pool}/${name} created (${format}, ${formatBytes(capacityBytes)}${backing ? `, thin overlay on ${o.backing}` : ''})`,
      newVolumeResult(pool, { name, format, capacityBytes, backingFile: backing?.path, backingFormat: backing?.format }),
      `${o.pool}/${name}`,
    );
  });
}

export const volumeCreateCommand = verb('create', 'create an empty volume, or a thin qcow2 overlay on a backing volume', runVolumeCreate, {
  args: [arg('<name>', `volume name: ${NEW_NAME_HELP}`)],
  options,
  examples: [
    'kvmctl volume create web1.qcow2 --pool default --size 20G',
    'kvmctl volume create scratch.raw --pool default --size 512M --format raw',
    'kvmctl volume create web2.qcow2 --pool default --backing default/debian-12.qcow2',
  ],
});
