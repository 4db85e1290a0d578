import { NEW_NAME_HELP } from '../../validate/names.js';
import { arg, flag, verb, type OptionsOf } from '../../verb.js';
import { OVERCOMMIT_HELP } from '../../storage/volume-checks.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { ConflictError, RefusedError } from '../../errors.js';
import { isLocalUri, thinAllocation, volumeCalls, type VolumeFormat } from '../../libvirt/storage.js';
import { runPlan } from '../../exec/plan.js';
import { formatBytes } from '../../units/size.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { describeUsers, findVolume, usersOf } from '../../storage/inventory.js';
import { newVolumeResult, volumeResult } from '../../storage/volume-json.js';
import { parseVolumeRef, validateNewName } from '../../storage/volume-ref.js';
import { QemuImg } from '../../storage/qemu-img-client.js';
import { checkNewVolume, readCopySource, sameSpec } from '../../storage/volume-checks.js';

export const options = {
  linked: flag('--linked', 'make a qcow2 overlay backed by the source instead of copying it'),
  allowOvercommit: flag('--allow-overcommit', OVERCOMMIT_HELP),
};
export type VolumeCloneOptions = OptionsOf<typeof options>;

export async function runVolumeClone(ctx: Context, source: string, name: string, o: VolumeCloneOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  const srcRef = parseVolumeRef(source);
  validateNewName('volume', name);
  const ref = `${srcRef.pool}/${name}`;

  await ctx.withLock(`volume ${ref}`, async () => {
    const { view, pool, src, format: srcFormat } = await readCopySource(ctx, source, srcRef, files);
    const format = o.linked ? 'qcow2' : srcFormat;

    const existing = findVolume(view, { pool: srcRef.pool, volume: name });
    if (existing) {
      // A full copy stands alone (libvirt copies an overlay's whole chain into it).
      const diffs = sameSpec(existing, { format, capacityBytes: src.capacityBytes, backingFile: o.linked ? src.path : undefined });
      const same =
        diffs.length === 0 && (o.linked || !isLocalUri(ctx.uri) || (await new QemuImg(ctx.runner).sameContent({ path: src.path, format: srcFormat }, { path: existing.path, format: srcFormat })));
      if (!same) throw new ConflictError(`volume ${ref} already exists and is not a ${o.linked ? 'linked ' : ''}clone of ${source}${diffs.length ? ` (${diffs.join('; ')})` : ''}`, 'choose another name, or delete it first');
      ctx.out.done(`volume ${ref} is already a ${o.linked ? 'linked ' : ''}clone of ${source}: unchanged`, { ...volumeResult(false, view, existing), source, linked: Boolean(o.linked) }, ref);
      return;
    }

    const users = usersOf(view, src).filter((u) => !u.readonly);
    if (o.linked && users.length > 0) {
      throw new RefusedError(
        `${source} is a writable disk of ${describeUsers(users)}: a VM writing to it would corrupt every overlay on it`,
        `make a full copy instead (${kvmctlCommand(ctx.uri, 'volume', 'clone', source, name)}), or detach the disk from those VMs first`,
      );
    }
    const running = users.filter((u) => u.active);
    if (!o.linked && running.length > 0) {
      throw new RefusedError(`${source} is in use by running VM(s) ${describeUsers(running)}: a copy taken now would be inconsistent`, 'shut the VM down first (kvmctl vm stop VM), then clone');
    }
    await checkNewVolume(ctx, pool, name, src.capacityBytes ?? 0, Boolean(o.allowOvercommit), `volume ${ref}`, files);

    if (o.linked) {
      await ctx.virsh.run(
        volumeCalls.create({
          pool: srcRef.pool,
          name,
          capacityBytes: src.capacityBytes ?? 0,
          allocationBytes: thinAllocation(pool.type),
          format: 'qcow2',
          backingPath: src.path,
          backingFormat: srcFormat as VolumeFormat,
        }),
      );
    } else {
      // libvirt copies on the pool's host and removes the new volume itself if the copy fails;
      // interrupted while libvirt copied, the finished copy is removed again.
      const copy = volumeCalls.copy({ pool: srcRef.pool, source: srcRef.volume, name, capacityBytes: src.capacityBytes ?? 0, format, allocationBytes: thinAllocation(pool.type) });
      await runPlan(ctx, { label: `volume clone ${ref}`, steps: [{ what: `volume ${ref}`, do: { virsh: copy }, undo: { virsh: volumeCalls.delete(srcRef.pool, name) }, spinner: `copying ${source} to ${ref}` }] });
    }
    ctx.out.done(`volume ${ref} created as a ${o.linked ? 'linked clone (qcow2 overlay)' : 'full copy'} of ${source} (${format}, ${formatBytes(src.capacityBytes)})`, {
      ...newVolumeResult(pool, { name, format, capacityBytes: src.capacityBytes, backingFile: o.linked ? src.path : undefined, backingFormat: o.linked ? srcFormat : undefined }),
      source: `${srcRef.pool}/${srcRef.volume}`,
      linked: Boolean(o.linked),
    }, ref);
  });
}

export const volumeCloneCommand = verb('clone', 'copy a volume in its pool: a full copy, or a thin qcow2 overlay with --linked', runVolumeClone, {
  args: [arg('<pool/src>', 'the volume to copy'), arg('<name>', `name of the copy (same pool): ${NEW_NAME_HELP}`)],
  options,
  examples: ['kvmctl volume clone default/base.qcow2 web1.qcow2', 'kvmctl volume clone default/base.qcow2 web2.qcow2 --linked'],
});
