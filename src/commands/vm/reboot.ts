/** `vm reboot NAME`: asks the guest to reboot through ACPI; only a running VM can. */
import type { Context } from '../../context.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmReboot(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, 'reboot');
}

export const rebootCommand = vmsVerb('reboot', 'ask the guest to reboot (ACPI)', runVmReboot, {
  examples: ['kvmctl vm reboot web1'],
});
