/** The source of an import (volume import, image pull): a file on this machine, judged by its header before any tool opens it. */
import { posix } from 'node:path';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { HEADER_BYTES, sniffImage } from './image-header.js';
import type { StorageFiles } from './local-files.js';
import { externalReferences, type ImageInfo } from './qemu-img.js';
import { IMAGE_FORMATS, isImageFormat } from '../libvirt/disk-formats.js';
import type { QemuImg } from './qemu-img-client.js';

export interface ImportSource {
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
export async function inspectSource(qemuImg: QemuImg, file: string, o: { format?: string; allowExternalRefs?: boolean }, files: StorageFiles): Promise<ImportSource> {
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
  const info = await qemuImg.inspectUntrusted(path, format);
  const infoRefs = externalReferences(info, path);
  refuse(infoRefs);
  return { path, format, info, references: [...new Set([...headerRefs, ...infoRefs])] };
}
