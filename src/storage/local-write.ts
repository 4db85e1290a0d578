/**
 * Writing a new image file into a local pool without ever clobbering one:
 * qemu-img writes a fresh temporary name, `ln` publishes it under the final
 * name (link(2) fails when that name exists, unlike rename(2)), and the
 * temporary name is removed. It is a plan (runPlan): a step that fails
 * (or Ctrl-C) removes the temporary file and, once published, the new file
 * (exit 7); a run killed outright leaves both named in the journal.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { StorageConnection } from './connection.js';
import { mutatingCommand, type Command, type CommandResult } from '../exec/command.js';
import type { Plan } from '../exec/plan.js';
import type { Runner } from '../exec/runner.js';
import { ConflictError } from '../errors.js';
import { poolCalls } from '../libvirt/storage.js';
import type { StorageFiles } from './local-files.js';
import { withProgress, type ProgressTerminal } from './progress.js';
import type { ImageInfo } from './qemu-img.js';
import { QemuImg } from './qemu-img-client.js';

export function temporaryPathFor(finalPath: string): string {
  return posix.join(posix.dirname(finalPath), `.${posix.basename(finalPath)}.kvmctl-${randomBytes(4).toString('hex')}.part`);
}

export const fileCommands = {
  /** Hard link: fails with "File exists" instead of replacing the target. */
  link: (from: string, to: string): Command => mutatingCommand('ln', ['-T', '--', from, to]),
  /** Guest disks are private, as libvirt makes its volumes (0600). */
  makePrivate: (path: string): Command => mutatingCommand('chmod', ['0600', '--', path]),
  /** A finished image others may read but nobody overwrites in place (0444). */
  makeReadOnly: (path: string): Command => mutatingCommand('chmod', ['0444', '--', path]),
  /** rename(2): replaces the target in one step (a reader sees the old file or the new one). */
  replace: (from: string, to: string): Command => mutatingCommand('mv', ['-T', '--', from, to]),
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

/**
 * The steps of a local write: the temporary file (its removal registered before
 * the write starts: a write cut short leaves a partial file under that name),
 * made private, linked to the final name, the temporary name removed, the pool
 * refreshed. Run it with runPlan: dry-run prints the exact commands, a failure
 * undoes in reverse.
 */
export function writeThenPublish(w: LocalWrite): Plan {
  const tmp = temporaryPathFor(w.finalPath);
  return {
    label: w.operation ?? `write ${w.finalPath}`,
    steps: [
      { what: `partial file ${tmp}`, do: { run: () => w.write(tmp), describe: `write ${tmp}`, viaRunner: true }, undo: { command: fileCommands.remove(tmp) }, undoFirst: true },
      { what: `permissions of ${tmp}`, do: { command: fileCommands.makePrivate(tmp) } },
      {
        what: `file ${w.finalPath}`,
        do: { command: fileCommands.link(tmp, w.finalPath), failure: (r) => (appeared(r) ? new ConflictError(`${w.finalPath} appeared while kvmctl was writing it (another process?); it was left untouched`, 'choose another name, or delete the other volume first') : undefined) },
        undo: { command: fileCommands.remove(w.finalPath) },
      },
      { what: `temporary name ${tmp} removed`, do: { command: fileCommands.remove(tmp) } },
      { what: `storage pool ${w.pool} (refreshed)`, do: { virsh: poolCalls.refresh(w.pool) } },
    ],
  };
}

/** link(2) refused because the final name exists. */
export function appeared(r: CommandResult): boolean {
  return /File exists/i.test(r.stderr);
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
