import { NEW_NAME_HELP } from '../../validate/names.js';
import { arg, flag, required, value, verb, type OptionsOf } from '../../verb.js';
import { OVERCOMMIT_HELP } from '../../storage/volume-checks.js';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { ConflictError, UsageError } from '../../errors.js';
import { isLocalUri, poolCalls, thinAllocation, volumeCalls, type PoolRecord } from '../../libvirt/storage.js';
import { runPlan } from '../../exec/plan.js';
import { formatBytes } from '../../units/size.js';
import { validateName } from '../../validate/names.js';
import { QemuImg } from '../../storage/qemu-img-client.js';
import { findVolume, localFileFor, readStorage, requireActivePool } from '../../storage/inventory.js';
import { newVolumeResult, volumeResult } from '../../storage/volume-json.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { convertWithProgress, removeFile, writeThenPublish } from '../../storage/local-write.js';
import { IMAGE_FORMATS, isImageFormat, TARGET_FORMATS } from '../../libvirt/disk-formats.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { inspectSource, type ImportSource } from '../../storage/import-source.js';
import { checkNewVolume, nameForFormat, parseTargetFormat } from '../../storage/volume-checks.js';

export const options = {
  pool: required('--pool <pool>', 'the pool to import into'),
  name: value('--name <name>', `volume name: ${NEW_NAME_HELP} (default: the file name, with the extension of --to)`),
  format: value('--format <format>', "the file's format (default: read from its header; qemu-img never guesses)", { choices: IMAGE_FORMATS }),
  to: value('--to <format>', 'convert to this format (default: keep the format)', { choices: TARGET_FORMATS }),
  allowExternalRefs: flag('--allow-external-refs', 'import an image whose header refers to other files (backing file, data file, json:, vmdk extents); needs --format'),
  allowOvercommit: flag('--allow-overcommit', OVERCOMMIT_HELP),
};
export type VolumeImportOptions = OptionsOf<typeof options>;

export async function runVolumeImport(ctx: Context, file: string, o: VolumeImportOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  validateName('pool', o.pool);
  if (o.format !== undefined && !isImageFormat(o.format)) throw new UsageError(`invalid --format ${JSON.stringify(o.format)}`, `use one of ${IMAGE_FORMATS.join(', ')}`);
  const to = o.to !== undefined ? parseTargetFormat('--to', o.to, 'qcow2') : undefined;
  if (o.allowExternalRefs && o.format === undefined) {
    throw new UsageError('--allow-external-refs needs --format', 'name the format you trust the image to be, e.g. --format qcow2 --allow-external-refs');
  }
  if (o.name !== undefined) validateNewName('volume', o.name, '--name');
  const src = await inspectSource(new QemuImg(ctx.runner), file, o, files);
  const targetFormat = to ?? src.format;
  const name = o.name ?? validateNewName('volume', nameForFormat(posix.basename(src.path), src.format, targetFormat), "the name taken from the file's (give --name)");
  const ref = `${o.pool}/${name}`;

  await ctx.withLock(`volume ${ref}`, async () => {
    const view = await readStorage(ctx, { domains: false });
    const pool = requireActivePool(view, o.pool);
    if (pool.type === 'logical' && targetFormat !== 'raw') throw new UsageError(`pool ${pool.name} is a logical (LVM) pool: its volumes are raw`, 'add --to raw');
    const existing = findVolume(view, { pool: o.pool, volume: name });
    if (existing) {
      const local = isLocalUri(ctx.uri);
      const same =
        existing.format === targetFormat &&
        existing.capacityBytes === src.info.virtualSizeBytes &&
        (!local || (await new QemuImg(ctx.runner).sameContent(src, { path: existing.path, format: targetFormat })));
      if (!same) throw new ConflictError(`volume ${ref} already exists and differs from ${src.path}`, 'choose another name with --name, or delete the volume first');
      ctx.out.done(`volume ${ref} already holds ${src.path}${local ? '' : ' (judged by format and size: the pool is remote)'}: unchanged`, { ...volumeResult(false, view, existing, { users: false }), source: src.path, sourceFormat: src.format, externalReferencesCopied: [] }, ref);
      return;
    }
    await checkNewVolume(ctx, pool, name, src.info.virtualSizeBytes, Boolean(o.allowOvercommit), `volume ${ref}`, files);
    if (src.references.length > 0) ctx.out.warn(`copying the data of ${src.references.join('; ')} into ${ref} (allowed with --allow-external-refs)`);

    const label = `importing ${posix.basename(src.path)} into ${ref}`;
    const finalPath = localFileFor(ctx, pool, name);
    if (finalPath !== undefined) {
      await runPlan(ctx, writeThenPublish({
        operation: `volume import ${ref}`,
        pool: pool.name,
        finalPath,
        write: (tmp) => convertWithProgress(ctx, label, src, tmp, targetFormat, files),
      }));
    } else {
      await importThroughLibvirt(ctx, pool, name, src, targetFormat, label, files);
    }
    ctx.out.done(`imported ${src.path} (${src.format}) as volume ${ref} (${targetFormat}, ${formatBytes(src.info.virtualSizeBytes)})`, {
      ...newVolumeResult(pool, { name, path: finalPath, format: targetFormat, capacityBytes: src.info.virtualSizeBytes }),
      source: src.path,
      sourceFormat: src.format,
      externalReferencesCopied: src.references,
    }, ref);
  });
}

/**
 * A pool kvmctl may not write into directly (a remote host, or LVM): libvirt
 * creates the volume and streams the file into it (vol-upload). A conversion
 * or flattening happens first, into a local temporary file.
 */
async function importThroughLibvirt(ctx: Context, pool: PoolRecord, name: string, src: ImportSource, targetFormat: string, label: string, files: StorageFiles): Promise<void> {
  const needsConvert = targetFormat !== src.format || src.references.length > 0;
  const staging = needsConvert ? posix.join(tmpdir(), `kvmctl-import-${randomBytes(4).toString('hex')}.${targetFormat}`) : undefined;
  const ref = `${pool.name}/${name}`;
  try {
    if (staging) await convertWithProgress(ctx, `converting ${posix.basename(src.path)} to ${targetFormat}`, src, staging, targetFormat, files);
    const upload = staging ?? src.path;
    // The volume holds the file's bytes as they are; libvirt reads its format back after the upload.
    const sizeBytes = (await files.stat(upload))?.sizeBytes ?? src.info.virtualSizeBytes;
    const volume = volumeCalls.create({ pool: pool.name, name, capacityBytes: sizeBytes, allocationBytes: thinAllocation(pool.type), format: 'raw' });
    await runPlan(ctx, {
      label: `volume import ${ref}`,
      steps: [
        { what: `volume ${ref}`, do: { virsh: volume }, undo: { virsh: volumeCalls.delete(pool.name, name) } },
        { what: `the data of volume ${ref}`, do: { virsh: volumeCalls.upload(pool.name, name, upload) }, spinner: label },
      ],
    });
    await ctx.virsh.run(poolCalls.refresh(pool.name));
  } finally {
    if (staging) await removeFile(ctx.runner, staging);
  }
}

export const volumeImportCommand = verb('import', 'copy an image file on this machine into a pool, converting it if asked (progress bar on a terminal)', runVolumeImport, {
  args: [arg('<file>', 'the image file')],
  options,
  examples: [
    'kvmctl volume import debian-12-genericcloud-amd64.qcow2 --pool default',
    'kvmctl volume import appliance.vmdk --pool default --to qcow2',
    'kvmctl volume import overlay.qcow2 --pool default --format qcow2 --allow-external-refs',
  ],
  notes:
    '\nAn image whose header refers to other files is refused (exit 5): importing it would\nread those files. If you trust it, name the format and pass --allow-external-refs;\nthe data is then copied into one standalone volume.\n',
});
