/** `vm reboot NAME`: asks the guest to reboot through ACPI; only a running VM can. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmReboot(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, {
    verb: 'reboot',
    call: domainCalls.reboot,
    from: (s) => s === 'running',
    hint: (c, n, s) => (s === 'paused' ? `resume it first: ${kvmctlCommand(c.uri, 'vm', 'resume', n)}` : `start it instead: ${kvmctlCommand(c.uri, 'vm', 'start', n)}`),
    to: 'running',
    says: 'asked to reboot (ACPI)',
  });
}

export const rebootCommand = vmsVerb('reboot', 'ask the guest to reboot (ACPI)', runVmReboot, {
  examples: ['kvmctl vm reboot web1'],
});
