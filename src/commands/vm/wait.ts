/**
 * `vm wait NAME --for ip|running|shutoff [--timeout 300]`, and the polling
 * loop `vm create --wait ip` and `vm stop` share: a bounded interval, Ctrl-C
 * ends it at once, a timeout is exit 6 naming what was still missing.
 */
import type { Context } from '../../context.js';
import { InterruptedError, TimeoutError, UsageError } from '../../errors.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmAddresses, type FoundAddress } from './ip.js';
import { parseCount } from './create-args.js';
import { kvmctlCommand } from '../../exec/command.js';

const FIRST_INTERVAL_MS = 500;
const MAX_INTERVAL_MS = 2000;

export type PollResult<T> = { done: true; value: T } | { done: false; status: string };

export interface PollOptions {
  timeoutMs: number;
  /** What is awaited, for the timeout message: 'VM "web1" to get an IP address'. */
  what: string;
  hint: string;
}

/** Sleeps; rejects with InterruptedError as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new InterruptedError('interrupted while waiting'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError('interrupted while waiting'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls check until it reports done; the interval grows from 0.5 s to 2 s so a
 * fast change is seen quickly without polling libvirt hard for minutes.
 */
export async function poll<T>(ctx: Context, opts: PollOptions, check: () => Promise<PollResult<T>>): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let interval = FIRST_INTERVAL_MS;
  for (;;) {
    const r = await check();
    if (r.done) return r.value;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new TimeoutError(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what} (${r.status})`, opts.hint);
    }
    await sleep(Math.min(interval, left), ctx.signal);
    interval = Math.min(MAX_INTERVAL_MS, Math.round(interval * 1.5));
  }
}

export type WaitTarget = 'ip' | 'running' | 'shutoff';

/** Polls until the VM has an address (any source); returns them. */
export function waitForAddress(ctx: Context, name: string, timeoutSeconds: number): Promise<FoundAddress[]> {
  return poll(
    ctx,
    {
      timeoutMs: timeoutSeconds * 1000,
      what: `VM ${JSON.stringify(name)} to get an IP address`,
      hint: `see what the guest printed with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}; check that its network hands out addresses (DHCP)`,
    },
    async () => {
      const { state } = await readVmState(ctx, name);
      if (state !== 'running') return { done: false, status: `it is ${state}` };
      const found = await vmAddresses(ctx, name, 'any');
      return found.length > 0 ? { done: true, value: found } : { done: false, status: 'it is running; no address from lease, agent or arp yet' };
    },
  );
}

/** Polls until the VM is in the state; returns it. */
export function waitForState(ctx: Context, name: string, target: 'running' | 'shutoff', timeoutSeconds: number, hint?: string): Promise<string> {
  return poll(
    ctx,
    {
      timeoutMs: timeoutSeconds * 1000,
      what: `VM ${JSON.stringify(name)} to be ${target}`,
      hint:
        hint ??
        (target === 'running' ? `start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}` : `stop it with: ${kvmctlCommand(ctx.uri, 'vm', 'stop', name)} (add --force to power it off)`),
    },
    async () => {
      const { state, reason } = await readVmState(ctx, name);
      return state === target ? { done: true, value: state } : { done: false, status: `it is ${state}${reason ? ` (${reason})` : ''}` };
    },
  );
}

export async function runVmWait(ctx: Context, name: string, opts: { for?: string; timeout?: string }): Promise<void> {
  checkVmName(name);
  const target = opts.for;
  if (target !== 'ip' && target !== 'running' && target !== 'shutoff') {
    throw new UsageError(`--for ${JSON.stringify(target ?? '')}: expected ip, running or shutoff`, `e.g. ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ip')}`);
  }
  const timeoutSeconds = opts.timeout === undefined ? 300 : parseCount(opts.timeout, '--timeout', 0, 86_400);
  if (target === 'ip') {
    const found = await waitForAddress(ctx, name, timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ name, addresses: found });
    return ctx.out.raw(found.map((a) => a.address).join('\n'));
  }
  const state = await waitForState(ctx, name, target, timeoutSeconds);
  ctx.out.done(`vm ${name} is ${state}`, { name, state });
}
