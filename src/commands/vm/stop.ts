/**
 * `vm stop NAME [--timeout 60] [--force]`: ask the guest to power off (ACPI
 * power button), wait for it, and with --force power it off when the time is
 * up. Without --force a guest that ignores the request is exit 6.
 */
import type { Context } from '../../context.js';
import { RefusedError, TimeoutError } from '../../errors.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { flag, value, type OptionsOf } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmStateResult } from './vm-object.js';
import { vmsVerb } from './vm-name.js';
import { countOption } from '../../validate/count.js';
import { poll } from './wait.js';
import { kvmctlCommand } from '../../exec/command.js';

/** A guest still booting has no ACPI handler yet and drops the event: ask again this often. */
const RESEND_MS = 10_000;

const options = {
  timeout: value('--timeout <seconds>', 'how long to wait for the guest (default 60)'),
  force: flag('--force', 'power it off if it has not shut down by then'),
};
export type StopOptions = OptionsOf<typeof options>;

export async function runVmStop(ctx: Context, name: string, opts: StopOptions): Promise<void> {
  checkVmName(name);
  const timeoutSeconds = countOption(opts.timeout, '--timeout', 0, 86_400, 60);
  const force = opts.force === true;
  const { state } = await readVmState(ctx, name);
  if (!isActive(state)) return ctx.out.done(`vm ${name} unchanged (already ${state})`, { ...vmStateResult(name, state, false), forced: false });
  if (state !== 'running' && state !== 'shutdown') {
    if (!force) throw new RefusedError(`VM ${JSON.stringify(name)} is ${state}: a ${state} guest cannot react to the power button`, `resume it first (${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}), or power it off with --force`);
    await powerOff(ctx, name);
    return ctx.out.done(`vm ${name} powered off (it was ${state})`, { ...vmStateResult(name, 'shutoff', true), forced: true });
  }

  const shutdown = domainCalls.shutdown(name);
  await ctx.virsh.run(shutdown);
  if (ctx.dryRun) return ctx.out.done(`vm ${name} would be asked to shut down`, { ...vmStateResult(name, state, false), forced: false });
  let sentAt = Date.now();
  try {
    await poll(
      ctx,
      {
        timeoutMs: timeoutSeconds * 1000,
        what: `VM ${JSON.stringify(name)} to shut down`,
        vm: name,
        hint: `the guest ignored the ACPI power button; power it off with: ${kvmctlCommand(ctx.uri, 'vm', 'stop', name, '--force')} (or ${kvmctlCommand(ctx.uri, 'vm', 'destroy', name)})`,
      },
      async () => {
        const s = await readVmState(ctx, name);
        if (s.state === 'shutoff') return { done: true, value: undefined };
        if (Date.now() - sentAt >= RESEND_MS) {
          // It may have powered off between the two calls; a refusal then is harmless.
          await ctx.virsh.attempt(shutdown);
          sentAt = Date.now();
        }
        return { done: false, status: `it is still ${s.state}` };
      },
    );
  } catch (err) {
    if (!(err instanceof TimeoutError) || !force) throw err;
    await powerOff(ctx, name);
    return ctx.out.done(`vm ${name} powered off after ${timeoutSeconds} s (the guest did not shut down by itself)`, { ...vmStateResult(name, 'shutoff', true), forced: true });
  }
  ctx.out.done(`vm ${name} shut down`, { ...vmStateResult(name, 'shutoff', true), forced: false });
}

export const stopCommand = vmsVerb('stop', 'shut a VM down through ACPI and wait; --force powers it off when the timeout passes', runVmStop, {
  options,
  examples: ['kvmctl vm stop web1', 'kvmctl vm stop web1 --timeout 30 --force'],
});

/** destroy, tolerating a guest that powered off in the meantime. */
async function powerOff(ctx: Context, name: string): Promise<void> {
  const result = await ctx.virsh.attempt(domainCalls.destroy(name));
  if (result.exitCode === 0) return;
  const { state } = await readVmState(ctx, name);
  if (state !== 'shutoff') await ctx.virsh.run(domainCalls.destroy(name));
}
