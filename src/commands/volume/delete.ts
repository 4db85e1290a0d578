import { flag, names, verb, type OptionsOf } from '../../verb.js';
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { isLocalUri, volumeCalls } from '../../libvirt/storage.js';
import { backingChainUses, describeChainUses } from '../../storage/chains.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { dependentsOf, describeUsers, readStorage, requireVolume, usersOf } from '../../storage/inventory.js';
import { formatVolumeRef, parseVolumeRef } from '../../storage/volume-ref.js';

export const options = {
  force: flag('--force', 'delete it although VMs that are not running name it as a disk (never one a running VM uses, never a backing file)'),
};
export type VolumeDeleteOptions = OptionsOf<typeof options>;

export async function runVolumeDelete(ctx: Context, volume: string, o: VolumeDeleteOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  const ref = parseVolumeRef(volume);
  const view = await readStorage(ctx);
  const vol = requireVolume(view, ref);
  // libvirt deletes a directory "volume" with everything in it.
  if (vol.type === 'dir') throw new RefusedError(`${volume} is a directory, not a disk image; kvmctl does not delete directories`, `look inside ${vol.path} and remove what you no longer need by hand`);
  const users = usersOf(view, vol);
  const running = users.filter((u) => u.active);
  // libvirt itself would delete a disk a running VM writes to.
  if (running.length > 0) {
    throw new RefusedError(`volume ${volume} is in use by running VM(s) ${describeUsers(running)}`, 'shut the VM down and remove the disk from it first; --force does not override this');
  }
  const overlays = dependentsOf(view, vol);
  if (overlays.length > 0) {
    throw new RefusedError(
      `volume ${volume} is the backing file of ${overlays.map((d) => `${d.pool}/${d.name}`).join(', ')}`,
      'delete those overlays first, or make them standalone with kvmctl volume convert; --force does not override this',
    );
  }
  // An overlay outside every pool (another VM's disk) is no volume: only its header says what it stands on.
  const chained = isLocalUri(ctx.uri) ? ((await backingChainUses(view.domains, files)).get(vol.path) ?? []) : [];
  if (chained.length > 0) {
    throw new RefusedError(
      `volume ${volume} is in the backing chain of ${describeChainUses(chained)}; deleting it would break that disk`,
      'delete that VM or its disk first, or make the disk standalone (qemu-img convert, or kvmctl volume convert if it is a volume); --force does not override this',
    );
  }
  if (users.length > 0 && !o.force) {
    throw new RefusedError(`volume ${volume} is a disk of VM(s) ${describeUsers(users)}`, 'remove the disk from those VMs first, or pass --force (the VMs will fail to start until they get another disk)');
  }
  await ctx.virsh.run(volumeCalls.delete(ref.pool, ref.volume));
  if (users.length > 0) ctx.out.warn(`VM(s) ${describeUsers(users)} still name ${vol.path} as a disk and will not start until it is replaced`);
  ctx.out.done(`volume ${volume} deleted`, { changed: true, pool: ref.pool, name: ref.volume, path: vol.path, formerUsers: users.map((u) => u.vm) }, `${ref.pool}/${ref.volume}`);
}

export const volumeDeleteCommand = verb('delete', 'delete a volume; refused (exit 5) while a VM uses it or another volume is an overlay on it', runVolumeDelete, {
  args: [names('<pool/name...>', 'the volume(s)', { kind: 'volume', serial: 'a volume that backs another is refused while that overlay exists: in the order given, an overlay named before its base goes first; at once, the base would still see it' })],
  ifExists: { kind: 'volume', name: (ref) => formatVolumeRef(parseVolumeRef(ref)), keys: (ref) => ({ pool: parseVolumeRef(ref).pool, name: parseVolumeRef(ref).volume }) },
  options,
  examples: ['kvmctl volume delete default/old.qcow2', 'kvmctl volume delete default/web1-overlay.qcow2 default/base.qcow2 --if-exists'],
});
