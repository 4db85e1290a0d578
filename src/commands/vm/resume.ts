/** `vm resume NAME`: lets a paused VM run again. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmResume(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, {
    verb: 'resume',
    call: domainCalls.resume,
    doneIn: (s) => s === 'running',
    from: (s) => s === 'paused',
    hint: (c, n) => `only a paused VM can be resumed; start it with: ${kvmctlCommand(c.uri, 'vm', 'start', n)}`,
    to: 'running',
    says: 'resumed',
  });
}

export const resumeCommand = vmsVerb('resume', 'resume a paused VM', runVmResume, {
  examples: ['kvmctl vm resume web1'],
});
