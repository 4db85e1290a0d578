import { NEW_NAME_HELP } from '../../validate/names.js';
import { flag, value, type OptionsOf } from '../../verb.js';
import { TARGET_FORMATS } from '../../libvirt/disk-formats.js';
import { OVERCOMMIT_HELP } from '../../storage/volume-checks.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { ConflictError, RefusedError, UsageError } from '../../errors.js';
import { isLocalUri, thinAllocation, volumeCalls } from '../../libvirt/storage.js';
import { runPlan } from '../../exec/plan.js';
import { buildVolumeXml } from '../../libvirt/volume-xml.js';
import { formatBytes } from '../../units/size.js';
import { describeUsers, findVolume, localFileFor, usersOf } from '../../storage/inventory.js';
import { newVolumeResult, volumeResult } from '../../storage/volume-json.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { convertWithProgress, writeThenPublish } from '../../storage/local-write.js';
import { QemuImg } from '../../storage/qemu-img-client.js';
import { parseVolumeRef, validateNewName } from '../../storage/volume-ref.js';
import { checkNewVolume, nameForFormat, readCopySource, parseTargetFormat } from '../../storage/volume-checks.js';
import { volumeVerb } from './one-volume.js';

export const options = {
  to: value('--to <format>', 'the new format', { choices: TARGET_FORMATS }),
  name: value('--name <name>', `name of the copy: ${NEW_NAME_HELP} (default: the name with the new extension)`),
  allowOvercommit: flag('--allow-overcommit', OVERCOMMIT_HELP),
};
export type VolumeConvertOptions = OptionsOf<typeof options>;

export async function runVolumeConvert(ctx: Context, volume: string, o: VolumeConvertOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  const srcRef = parseVolumeRef(volume);
  if (o.to === undefined) throw new UsageError('--to is required', 'e.g. --to raw or --to qcow2');
  const to = parseTargetFormat('--to', o.to, 'qcow2');
  if (o.name !== undefined) validateNewName('volume', o.name, '--name');

  // The default name only swaps the extension: disk.qcow2 -> disk.raw.
  const name = o.name ?? validateNewName('volume', nameForFormat(srcRef.volume, '', to), "the name taken from the source volume's (give --name)");
  const ref = `${srcRef.pool}/${name}`;

  await ctx.withLock(`volume ${ref}`, async () => {
    const { view, pool, src, format: srcFormat } = await readCopySource(ctx, volume, srcRef, files);
    if (srcFormat === to && src.backingFile === undefined) {
      throw new UsageError(`${volume} is already ${to}`, `to copy it, use ${kvmctlCommand(ctx.uri, 'volume', 'clone', volume, 'NEWNAME')}`);
    }
    if (name === srcRef.volume) throw new UsageError(`the converted copy needs a name other than ${srcRef.volume}`, 'give one with --name');
    const existing = findVolume(view, { pool: srcRef.pool, volume: name });
    if (existing) {
      const same =
        existing.format === to &&
        existing.backingFile === undefined &&
        existing.capacityBytes === src.capacityBytes &&
        (!isLocalUri(ctx.uri) || (await new QemuImg(ctx.runner).sameContent({ path: src.path, format: srcFormat }, { path: existing.path, format: to })));
      if (!same) throw new ConflictError(`volume ${ref} already exists and is not a ${to} copy of ${volume}`, 'choose another name with --name, or delete it first');
      ctx.out.done(`volume ${ref} is already a ${to} copy of ${volume}: unchanged`, { ...volumeResult(false, view, existing), source: volume, sourceFormat: srcFormat }, ref);
      return;
    }
    const running = usersOf(view, src).filter((u) => u.active && !u.readonly);
    if (running.length > 0) {
      throw new RefusedError(`${volume} is in use by running VM(s) ${describeUsers(running)}: a copy taken now would be inconsistent`, 'shut the VM down first (kvmctl vm stop VM), then convert');
    }
    await checkNewVolume(ctx, pool, name, src.capacityBytes ?? 0, Boolean(o.allowOvercommit), `volume ${ref}`, files);

    const label = `converting ${volume} to ${to}`;
    const finalPath = localFileFor(ctx, pool, name);
    if (finalPath !== undefined) {
      // An overlay's chain is read through (formats from its header), so the copy stands alone.
      const info = await new QemuImg(ctx.runner).info(src.path, srcFormat);
      await runPlan(ctx, writeThenPublish({
        operation: `volume convert ${ref}`,
        pool: pool.name,
        finalPath,
        write: (tmp) => convertWithProgress(ctx, label, { path: src.path, format: srcFormat, info }, tmp, to, files),
      }));
    } else {
      // Remote (or LVM) pool: libvirt runs qemu-img convert on its host and removes a failed copy itself.
      const xml = buildVolumeXml({ name, capacityBytes: src.capacityBytes ?? 0, allocationBytes: thinAllocation(pool.type), format: to });
      const copy = volumeCalls.createFrom(srcRef.pool, name, xml, srcRef.pool, srcRef.volume);
      await runPlan(ctx, { label: `volume convert ${ref}`, steps: [{ what: `volume ${ref}`, do: { virsh: copy }, undo: { virsh: volumeCalls.delete(srcRef.pool, name) }, spinner: label }] });
    }
    ctx.out.done(`converted ${volume} (${srcFormat}) to ${ref} (${to}, ${formatBytes(src.capacityBytes)}); ${volume} is unchanged`, {
      ...newVolumeResult(pool, { name, path: finalPath, format: to, capacityBytes: src.capacityBytes }),
      source: volume,
      sourceFormat: srcFormat,
    }, ref);
  });
}

export const volumeConvertCommand = volumeVerb('convert', 'write a copy of a volume in another format (progress bar on a terminal); the source stays', runVolumeConvert, {
  options,
  examples: ['kvmctl volume convert default/web1.qcow2 --to raw', 'kvmctl volume convert default/disk.raw --to qcow2 --name disk.qcow2'],
});
