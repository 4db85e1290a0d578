/** net delete: stops and undefines a network, refused while running VMs use it. */
import type { Context } from '../../context.js';
import { netsVerb } from './network-state.js';
import { runPlan, when } from '../../exec/plan.js';
import { RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import { networkCalls } from '../../libvirt/network-commands.js';
import { load } from './network-state.js';
import { running, vmsOnNetwork } from './vm-owners.js';

export async function runNetDelete(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  const domains = await loadDomains(ctx.runner, ctx.uri);
  const users = vmsOnNetwork(domains, name);
  const busy = running(users).map((d) => d.name);
  if (busy.length > 0) {
    throw new RefusedError(`network ${name} is in use by running VM(s): ${busy.join(', ')}`, 'shut them down (or move their interfaces to another network) first');
  }
  await runPlan(ctx, {
    label: `net delete ${name}`,
    steps: [
      // Only a persistent network can be started again after an undefine fails.
      ...when(net.active, { what: `stopped network ${name}`, do: { virsh: networkCalls.destroy(name) }, ...(net.persistent ? { undo: { virsh: networkCalls.start(name) } } : {}) }),
      ...when(net.persistent, { what: `undefined network ${name}`, do: { virsh: networkCalls.undefine(name) } }),
    ],
  });
  const idle = users.map((d) => d.name);
  if (idle.length > 0) ctx.out.warn(`VM(s) ${idle.join(', ')} still have an interface on network ${name} and will not start until it is changed`);
  ctx.out.done(`network ${name} deleted`, { name, changed: true, vmsStillReferencing: idle });
}

export const netDeleteVerb = netsVerb('delete', 'stop and undefine a network (refused while running VMs use it: exit 5, naming them)', runNetDelete, {
  ifExists: { kind: 'network' },
  examples: ['kvmctl net delete lab'],
});
