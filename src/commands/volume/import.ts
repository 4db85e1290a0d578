import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { formatCommand } from '../../exec/command.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { isLocalUri, poolCommands, thinAllocation, volumeCommands, type PoolRecord } from '../../libvirt/storage.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { formatBytes } from '../../units/size.js';
import { validateName } from '../../validate/names.js';
import { HEADER_BYTES, sniffImage } from '../../storage/image-header.js';
import { inspectUntrustedImage } from '../../storage/untrusted-image.js';
import { findVolume, localFileFor, readStorage, requireActivePool } from '../../storage/inventory.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { convertWithProgress, fileCommands, writeThenPublish } from '../../storage/local-write.js';
import { withSpinner } from '../../output/spinner.js';
import { IMAGE_FORMATS, isImageFormat } from '../../libvirt/disk-formats.js';
import { externalReferences, type ImageInfo } from '../../storage/qemu-img.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { checkFreeSpace, checkNoFileAt, nameForFormat, parseTargetFormat, sameContent } from './checks.js';

export interface VolumeImportOptions {
  pool: string;
  name?: string;
  format?: string;
  to?: string;
  allowExternalRefs?: boolean;
  allowOvercommit?: boolean;
}

interface Source {
  path: string;
  format: string;
  info: ImageInfo;
  /** Other files its header refers to (allowed explicitly, or empty). */
  references: string[];
}

/**
 * Which format the file is and whether it refers to other files, decided from
 * its header before any tool opens it; then qemu-img info with that format
 * named. References are refused unless the user named the format and allowed them.
 */
export async function inspectSource(ctx: Context, file: string, o: VolumeImportOptions, files: StorageFiles): Promise<Source> {
  const path = posix.resolve(file);
  const facts = await files.stat(path);
  if (!facts) throw new NotFoundError(`image file ${path} not found`, 'give the path of an image file on this machine');
  if (facts.kind !== 'file') throw new UsageError(`${path} is not a regular file`, 'import an image file (qcow2, raw, vmdk, vdi, vhdx, vpc)');
  const header = sniffImage(await files.header(path, HEADER_BYTES));
  const format = o.format ?? header.format;
  if (!isImageFormat(format)) {
    throw new RefusedError(`${path} is a ${header.format} image, which kvmctl does not import`, `convert it to qcow2 or raw first, or name its format with --format (${IMAGE_FORMATS.join(', ')})`);
  }
  const allowed = o.format !== undefined && o.allowExternalRefs === true;
  const refuse = (refs: string[]) => {
    if (refs.length === 0 || allowed) return;
    throw new RefusedError(
      `image ${path} refers to other files (${refs.join('; ')}); importing it would read them`,
      `if you trust this image, name its format and allow that: --format ${format} --allow-external-refs (the data is then copied into one standalone volume)`,
    );
  };
  // Read as another format than its header says, the header means nothing.
  const headerRefs = format === header.format ? header.references : [];
  refuse(headerRefs);
  const info = await inspectUntrustedImage(ctx.runner, path, format);
  const infoRefs = externalReferences(info, path);
  refuse(infoRefs);
  return { path, format, info, references: [...new Set([...headerRefs, ...infoRefs])] };
}

export async function runVolumeImport(ctx: Context, file: string, o: VolumeImportOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  validateName('pool', o.pool);
  if (o.format !== undefined && !isImageFormat(o.format)) throw new UsageError(`invalid --format ${JSON.stringify(o.format)}`, `use one of ${IMAGE_FORMATS.join(', ')}`);
  const to = o.to !== undefined ? parseTargetFormat('--to', o.to, 'qcow2') : undefined;
  if (o.allowExternalRefs && o.format === undefined) {
    throw new UsageError('--allow-external-refs needs --format', 'name the format you trust the image to be, e.g. --format qcow2 --allow-external-refs');
  }
  if (o.name !== undefined) validateNewName('volume', o.name);
  const src = await inspectSource(ctx, file, o, files);
  const targetFormat = to ?? src.format;
  const name = o.name ?? validateNewName('volume', nameForFormat(posix.basename(src.path), src.format, targetFormat));
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
        (!local || (await sameContent(ctx, src, { path: existing.path, format: targetFormat })));
      if (!same) throw new ConflictError(`volume ${ref} already exists and differs from ${src.path}`, 'choose another name with --name, or delete the volume first');
      ctx.out.done(`volume ${ref} already holds ${src.path}${local ? '' : ' (judged by format and size: the pool is remote)'}: unchanged`, { ...existing, unchanged: true });
      return;
    }
    await checkNoFileAt(ctx, pool, name, files);
    checkFreeSpace(pool, src.info.virtualSizeBytes, Boolean(o.allowOvercommit), `volume ${ref}`);
    if (src.references.length > 0) ctx.out.warn(`copying the data of ${src.references.join('; ')} into ${ref} (allowed with --allow-external-refs)`);

    const label = `importing ${posix.basename(src.path)} into ${ref}`;
    const finalPath = localFileFor(ctx, pool, name);
    if (finalPath !== undefined) {
      await writeThenPublish(ctx, {
        operation: `volume import ${ref}`,
        pool: pool.name,
        finalPath,
        write: (tmp) => convertWithProgress(ctx, label, src, tmp, targetFormat, files),
      });
    } else {
      await importThroughLibvirt(ctx, pool, name, src, targetFormat, label, files);
    }
    ctx.out.done(`imported ${src.path} (${src.format}) as volume ${ref} (${targetFormat}, ${formatBytes(src.info.virtualSizeBytes)})`, {
      pool: pool.name,
      name,
      path: finalPath ?? null,
      format: targetFormat,
      capacityBytes: src.info.virtualSizeBytes,
      source: src.path,
      sourceFormat: src.format,
      externalReferencesCopied: src.references,
    });
  });
}

/**
 * A pool kvmctl may not write into directly (a remote host, or LVM): libvirt
 * creates the volume and streams the file into it (vol-upload). A conversion
 * or flattening happens first, into a local temporary file.
 */
async function importThroughLibvirt(ctx: Context, pool: PoolRecord, name: string, src: Source, targetFormat: string, label: string, files: StorageFiles): Promise<void> {
  const needsConvert = targetFormat !== src.format || src.references.length > 0;
  const staging = needsConvert ? posix.join(tmpdir(), `kvmctl-import-${randomBytes(4).toString('hex')}.${targetFormat}`) : undefined;
  const subject = { kind: 'volume' as const, name: `${pool.name}/${name}` };
  try {
    if (staging) await convertWithProgress(ctx, `converting ${posix.basename(src.path)} to ${targetFormat}`, src, staging, targetFormat, files);
    const upload = staging ?? src.path;
    // The volume holds the file's bytes as they are; libvirt reads its format back after the upload.
    const sizeBytes = (await files.stat(upload))?.sizeBytes ?? src.info.virtualSizeBytes;
    await ctx.transaction(`volume import ${pool.name}/${name}`).run(async (tx) => {
      await runVirsh(ctx.runner, volumeCommands.create(ctx.uri, { pool: pool.name, name, capacityBytes: sizeBytes, allocationBytes: thinAllocation(pool.type), format: 'raw' }), subject);
      tx.onRollback({
        what: `volume ${pool.name}/${name}`,
        run: () => runVirsh(ctx.runner, volumeCommands.delete(ctx.uri, pool.name, name), subject).then(() => undefined),
        manual: formatCommand(volumeCommands.delete(ctx.uri, pool.name, name)),
      });
      await withSpinner(ctx, label, () => runVirsh(ctx.runner, volumeCommands.upload(ctx.uri, pool.name, name, upload), subject));
    });
    await runVirsh(ctx.runner, poolCommands.refresh(ctx.uri, pool.name), { kind: 'pool', name: pool.name });
  } finally {
    if (staging) await ctx.runner.run(fileCommands.remove(staging));
  }
}
