/** `vm resume NAME`: lets a paused VM run again. */
import type { Context } from '../../context.js';
import { changeState } from './lifecycle.js';
import { vmsVerb } from './vm-name.js';

export function runVmResume(ctx: Context, name: string): Promise<void> {
  return changeState(ctx, name, 'resume');
}

export const resumeCommand = vmsVerb('resume', 'resume a paused VM', runVmResume, {
  examples: ['kvmctl vm resume web1'],
});
