/** `vm suspend NAME`: pauses a running VM; it keeps its memory. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmSuspend(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, {
    verb: 'suspend',
    call: domainCalls.suspend,
    doneIn: (s) => s === 'paused',
    from: (s) => s === 'running',
    hint: (c, n) => `only a running VM can be suspended; start it with: ${kvmctlCommand(c.uri, 'vm', 'start', n)}`,
    to: 'paused',
    says: 'suspended (paused)',
  });
}

export const suspendCommand = vmsVerb('suspend', 'pause a running VM (it keeps its memory)', runVmSuspend, {
  examples: ['kvmctl vm suspend web1'],
});
