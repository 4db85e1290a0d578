/** `vm suspend NAME`: pauses a running VM; it keeps its memory. */
import type { Context } from '../../context.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmSuspend(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, 'suspend');
}

export const suspendCommand = vmsVerb('suspend', 'pause a running VM (it keeps its memory)', runVmSuspend, {
  examples: ['kvmctl vm suspend web1'],
});
