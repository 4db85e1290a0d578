import { arg, verb } from '../../verb.js';
import { inventoryHostObject } from './host-object.js';
import type { Context } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { editInventory, loadInventory, validateHostName } from '../../inventory/hosts-file.js';
import { withInventory } from './inventory-lock.js';

/** `kvmctl host remove NAME`: out of the inventory and of every group; the host itself is not touched. */
export async function runHostRemove(ctx: Context, name: string): Promise<void> {
  validateHostName(name);
  await withInventory(ctx, async (path) => {
    const inv = await loadInventory(path);
    const host = inv.hosts.find((h) => h.name === name);
    if (!host) throw new NotFoundError(`host ${name} is not in ${path}`, 'list them with: kvmctl host list');
    if (ctx.dryRun) return ctx.out.done(`host ${name} would be removed from ${path}`, { changed: false, ...inventoryHostObject(host) });
    await editInventory(path, (doc) => {
      doc.deleteIn(['hosts', name]);
      for (const [g, members] of Object.entries(inv.groups)) {
        // From the end, so that the indexes still to visit stay valid.
        for (let i = members.length - 1; i >= 0; i--) if (members[i] === name) doc.deleteIn(['groups', g, i]);
      }
    });
    ctx.out.done(`host ${name} removed from ${path} (nothing on the host was changed)`, { changed: true, ...inventoryHostObject(host) });
  });
}

export const hostRemoveCommand = verb('remove', 'remove a host from the inventory and its groups (nothing on the host changes)', runHostRemove, {
  args: [arg('<name>', 'the host')],
  examples: ['kvmctl host remove kvm1'],
});
