/**
 * Writing a new image file into a local pool without ever clobbering one:
 * qemu-img writes a fresh temporary name, `ln` publishes it under the final
 * name (link(2) fails when that name exists, unlike rename(2)), and the
 * temporary name is removed. It runs as one transaction: a step that fails
 * (or Ctrl-C) removes the temporary file and, once published, the new file
 * (exit 7); a run killed outright leaves both named in the journal.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Context } from '../context.js';
import type { StorageConnection } from './connection.js';
import { formatCommand, mutatingCommand, type Command } from '../exec/command.js';
import { runChecked, ToolError, type Runner } from '../exec/runner.js';
import { ConflictError } from '../errors.js';
import { poolCommands } from '../libvirt/storage.js';
import type { StorageFiles } from './local-files.js';
import { withProgress, type ProgressTerminal } from './progress.js';
import type { ImageInfo } from './qemu-img.js';
import { QemuImg } from './qemu-img-client.js';
import { runVirsh } from '../libvirt/virsh.js';

export function temporaryPathFor(finalPath: string): string {
  return posix.join(posix.dirname(finalPath), `.${posix.basename(finalPath)}.kvmctl-${randomBytes(4).toString('hex')}.part`);
}

export const fileCommands = {
  /** Hard link: fails with "File exists" instead of replacing the target. */
  link: (from: string, to: string): Command => mutatingCommand('ln', ['-T', '--', from, to]),
  /** Guest disks are private, as libvirt makes its volumes (0600). */
  makePrivate: (path: string): Command => mutatingCommand('chmod', ['0600', '--', path]),
  remove: (path: string): Command => mutatingCommand('rm', ['-f', '--', path]),
  /** rm removes a symlink itself, never the file it points to; a missing file is no error (as libvirt's vol-delete). */
  removeAll: (paths: string[]): Command => mutatingCommand('rm', ['-f', '--', ...paths]),
};

/** Removes a scratch file kvmctl made (a staging copy); a file already gone is fine, as with rm -f. */
export async function removeFile(runner: Runner, path: string): Promise<void> {
  await runner.run(fileCommands.remove(path));
}

export interface LocalWrite {
  /** The pool that receives the file (refreshed afterwards so libvirt lists it). */
  pool: string;
  finalPath: string;
  /** Writes the image to the given temporary path. */
  write: (temporaryPath: string) => Promise<void>;
  /** What the user asked for, for messages ("volume import p/web.qcow2"). */
  operation?: string;
}

export async function writeThenPublish(ctx: StorageConnection & Pick<Context, 'transaction'>, w: LocalWrite): Promise<void> {
  const tmp = temporaryPathFor(w.finalPath);
  const removeTmp = fileCommands.remove(tmp);
  const removeFinal = fileCommands.remove(w.finalPath);
  await ctx.transaction(w.operation ?? `write ${w.finalPath}`).run(async (tx) => {
    // Registered before the write starts: a write cut short leaves a partial file under this name.
    tx.onRollback({ what: `partial file ${tmp}`, manual: formatCommand(removeTmp), run: async () => void (await runChecked(ctx.runner, removeTmp)) });
    await w.write(tmp);
    tx.checkpoint();
    await runChecked(ctx.runner, fileCommands.makePrivate(tmp));
    const link = fileCommands.link(tmp, w.finalPath);
    const r = await ctx.runner.run(link);
    if (r.exitCode !== 0) {
      if (/File exists/i.test(r.stderr)) {
        throw new ConflictError(`${w.finalPath} appeared while kvmctl was writing it (another process?); it was left untouched`, 'choose another name, or delete the other volume first');
      }
      throw new ToolError(link, r);
    }
    tx.onRollback({ what: `file ${w.finalPath}`, manual: formatCommand(removeFinal), run: async () => void (await runChecked(ctx.runner, removeFinal)) });
    await runChecked(ctx.runner, removeTmp);
    tx.checkpoint();
    await runVirsh(ctx.runner, poolCommands.refresh(ctx.uri, w.pool), { kind: 'pool', name: w.pool });
  });
}

/** qemu-img convert into dest (a fresh temporary name), with a progress bar on a terminal. */
export async function convertWithProgress(
  ctx: StorageConnection & ProgressTerminal,
  label: string,
  src: { path: string; format: string; info: ImageInfo },
  dest: string,
  destFormat: string,
  files: StorageFiles,
): Promise<void> {
  const expectedBytes = src.info.actualSizeBytes ?? src.info.virtualSizeBytes;
  await withProgress(ctx, label, { path: dest, expectedBytes, files }, () => new QemuImg(ctx.runner).convert(src, dest, destFormat));
}

/** Removes files of a local directory pool in one rm process; false when rm failed for any of them. */
export async function removeFiles(runner: Runner, paths: string[]): Promise<boolean> {
  return (await runner.run(fileCommands.removeAll(paths))).exitCode === 0;
}
