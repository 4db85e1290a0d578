import { posix } from 'node:path';
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { runChecked } from '../../exec/runner.js';
import { volumeCalls } from '../../libvirt/storage.js';
import { fileCommands } from '../../storage/local-write.js';
import { imagePaths } from '../../images/store.js';
import { findImage, imageRecordJson, readImages } from './inventory.js';
import { arg, verb } from '../../verb.js';

export async function runImageRemove(ctx: Context, text: string): Promise<void> {
  const { images } = await readImages(ctx);
  const i = findImage(images, text);
  const ref = `${i.record.pool}/${i.record.name}`;
  if (i.overlays.length > 0 || i.vms.length > 0) {
    const users = [...(i.vms.length ? [`VMs ${i.vms.join(', ')}`] : []), ...(i.overlays.length ? [`overlays ${i.overlays.join(', ')}`] : [])].join(' and ');
    throw new RefusedError(`image ${ref} is in use by ${users}; it was not removed`, 'delete those VMs (kvmctl vm delete NAME --remove-storage) or overlays first');
  }
  await ctx.withLock(`image ${ref}`, async () => {
    if (i.volume) await ctx.virsh.run(volumeCalls.delete(i.record.pool, i.record.name));
    await runChecked(ctx.runner, fileCommands.remove(imagePaths(posix.dirname(i.record.path), i.record.name).meta));
  });
  ctx.out.done(`removed image ${ref} (${i.record.source})`, { changed: true, ...imageRecordJson(i.record) }, ref);
}

export const imageRemoveCommand = verb('remove', 'remove a pulled image; refused (exit 5) while a VM or an overlay uses it', runImageRemove, {
  args: [arg('<image>', 'POOL/NAME (as image list shows it), NAME, or the catalog name it was pulled by')],
  ifExists: { kind: 'image' },
  examples: ['kvmctl image remove debian-12'],
});
