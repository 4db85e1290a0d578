/** `vm destroy NAME`: powers a VM off at once; its disks and definition stay. */
import type { Context } from '../../context.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmDestroy(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, 'destroy');
}

export const destroyCommand = vmsVerb('destroy', 'power a VM off at once (keeps its disks and definition)', runVmDestroy, {
  examples: ['kvmctl vm destroy web1'],
});
