import { arg, list, required, value, verb, type OptionsOf } from '../../verb.js';
import { inventoryHostObject } from './host-object.js';
import { kvmctlCommand } from '../../exec/command.js';
import type { Context } from '../../context.js';
import { ConflictError } from '../../errors.js';
import {
  editInventory,
  ensureMap,
  ensureSeq,
  loadInventory,
  parseLabel,
  validateAddress,
  validateHostName,
  validateHostUri,
  type InventoryHost,
} from '../../inventory/hosts-file.js';
import { withInventory } from './inventory-lock.js';

export const options = {
  uri: required('--uri <uri>', 'its libvirt URI, e.g. qemu+ssh://root@kvm1/system'),
  label: list('--label <key=value>', 'a label (repeatable)'),
  migrationAddress: value('--migration-address <address>', 'the address other hosts send migration data to (an IP address or a host name)'),
  group: list('--group <group>', 'a group to put it in (repeatable)'),
};
export type HostAddOptions = OptionsOf<typeof options>;

/** `kvmctl host add NAME --uri URI`: unchanged when it is already there as given, exit 4 when it differs. */
export async function runHostAdd(ctx: Context, name: string, opts: HostAddOptions): Promise<void> {
  validateHostName(name);
  const uri = validateHostUri(opts.uri);
  const labels = Object.fromEntries((opts.label ?? []).map(parseLabel));
  const migrationAddress = opts.migrationAddress === undefined ? undefined : validateAddress(opts.migrationAddress);
  const groups = [...new Set((opts.group ?? []).map((g) => validateHostName(g, 'group')))];
  const wanted: InventoryHost = { name, uri, labels, migrationAddress, groups };
  await withInventory(ctx, async (path) => {
    const existing = (await loadInventory(path)).hosts.find((h) => h.name === name);
    if (existing) {
      const diff = differences(existing, wanted);
      if (diff.length > 0) {
        throw new ConflictError(`host ${name} is already in ${path} with ${diff.join(', ')}`, `remove it first (${kvmctlCommand(undefined, 'host', 'remove', name)}), or add it under another name`);
      }
      return ctx.out.done(`host ${name} unchanged`, { changed: false, ...inventoryHostObject(existing) });
    }
    if (ctx.dryRun) return ctx.out.done(`host ${name} would be added to ${path}`, { changed: false, ...inventoryHostObject(wanted) });
    await editInventory(path, (doc) => {
      ensureMap(doc, 'hosts');
      const entry: Record<string, unknown> = { uri };
      if (Object.keys(labels).length > 0) entry.labels = labels;
      if (migrationAddress !== undefined) entry.migrationAddress = migrationAddress;
      doc.setIn(['hosts', name], doc.createNode(entry));
      for (const g of groups) {
        if (!doc.hasIn(['groups'])) doc.set('groups', doc.createNode({}));
        ensureSeq(doc, ['groups', g]);
        doc.addIn(['groups', g], name);
      }
    });
    ctx.out.done(`host ${name} added to ${path}`, { changed: true, ...inventoryHostObject(wanted) });
  });
}

function differences(have: InventoryHost, want: InventoryHost): string[] {
  const out: string[] = [];
  if (have.uri !== want.uri) out.push(`uri ${have.uri} (not ${want.uri})`);
  if (JSON.stringify(sorted(have.labels)) !== JSON.stringify(sorted(want.labels))) out.push(`labels ${JSON.stringify(have.labels)}`);
  if (have.migrationAddress !== want.migrationAddress) out.push(`migration address ${have.migrationAddress ?? 'none'}`);
  // Groups compare as labels do: the same set, or a difference (a group left out is one).
  if (JSON.stringify([...have.groups].sort()) !== JSON.stringify([...want.groups].sort())) out.push(`groups ${have.groups.join(', ') || 'none'}`);
  return out;
}

function sorted(labels: Record<string, string>): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export const hostAddCommand = verb('add', 'add a host to the inventory ($KVMCTL_HOSTS, else $XDG_CONFIG_HOME/kvmctl/hosts.yaml)', runHostAdd, {
  args: [arg('<name>', 'the name -H and --to will use')],
  options,
  examples: ['kvmctl host add kvm1 --uri qemu+ssh://root@kvm1/system --label rack=a1 --group web', 'kvmctl host add kvm2 --uri qemu+tcp://10.0.0.12/system --migration-address 10.0.0.12'],
});
