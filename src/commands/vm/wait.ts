/**
 * `vm wait NAME --for ip|ready|running|shutoff [--timeout 300]`, and the
 * polling loop `vm create --wait ip|ready` and `vm stop` share: a bounded
 * interval, Ctrl-C ends it at once, a timeout is exit 6 naming what was still
 * missing. Waiting for an address or for readiness needs a running VM: one
 * that is not running fails at once (exit 5) with its state.
 */
import type { Context } from '../../context.js';
import { InterruptedError, KvmctlError, RefusedError, TimeoutError, UsageError } from '../../errors.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { parseDomainXml, type DomainDefinition } from '../../libvirt/domain-xml.js';
import { isLocalUri } from '../../libvirt/storage.js';
import { value, type OptionsOf } from '../../verb.js';
import { describeCloudInitConsole, readCloudInitConsole, type CloudInitConsole } from './cloud-init-log.js';
import { checkVmName, readVmState } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { addressObject, vmAddresses, type FoundAddress } from './ip.js';
import { cloudInitObject } from './vm-object.js';
import { RunAddresses } from './run-addresses.js';
import { countOption } from '../../validate/count.js';
import { kvmctlCommand } from '../../exec/command.js';
import { pingAgent } from './exec.js';
import { probeSsh } from '../../net/ssh.js';
import { withSpinner } from '../../output/spinner.js';

const FIRST_INTERVAL_MS = 500;
const MAX_INTERVAL_MS = 2000;

export type PollResult<T> = { done: true; value: T } | { done: false; status: string };

export interface PollOptions {
  timeoutMs: number;
  /** What is awaited, for the timeout message: 'VM "web1" to get an IP address'. */
  what: string;
  hint: string;
  /** The VM waited for, named in the timeout's error object. */
  vm?: string;
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
export function poll<T>(ctx: Context, opts: PollOptions, check: () => Promise<PollResult<T>>): Promise<T> {
  // On a terminal: a spinner with what is awaited, what the last look saw, and the time so far.
  return withSpinner(ctx, `waiting for ${opts.what}`, (update) => pollLoop(ctx, opts, check, (status) => update(`waiting for ${opts.what}: ${status}`)));
}

async function pollLoop<T>(ctx: Context, opts: PollOptions, check: () => Promise<PollResult<T>>, seen: (status: string) => void): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let interval = FIRST_INTERVAL_MS;
  for (;;) {
    const r = await check();
    if (r.done) return r.value;
    seen(r.status);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new TimeoutError(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what} (${r.status})`, opts.hint, opts.vm !== undefined ? { object: { kind: 'vm', name: opts.vm } } : undefined);
    }
    await sleep(Math.min(interval, left), ctx.signal);
    interval = Math.min(MAX_INTERVAL_MS, Math.round(interval * 1.5));
  }
}

export type WaitTarget = 'ip' | 'ready' | 'agent' | 'ssh' | 'running' | 'shutoff';
export const WAIT_TARGETS: readonly WaitTarget[] = ['ip', 'ready', 'agent', 'ssh', 'running', 'shutoff'];

/** A VM that is not running gets no address and finishes no boot: waiting for either would only burn the timeout. */
function notRunning(uri: string, name: string, state: string, reason: string | undefined, what: string): RefusedError {
  return new RefusedError(
    `VM ${JSON.stringify(name)} is ${state}${reason ? ` (${reason})` : ''}: it cannot ${what} until it runs`,
    state === 'paused'
      ? `resume it: ${kvmctlCommand(uri, 'vm', 'resume', name)}`
      : `start it first: ${kvmctlCommand(uri, 'vm', 'start', name)} (or see why it stopped: ${kvmctlCommand(uri, 'vm', 'log', name)})`,
    { object: { kind: 'vm', name } },
  );
}

/** The status of a look that found no address of this run, with the old lease it set aside. */
function noAddressYet(addresses: RunAddresses): string {
  return `it is running; no address from lease, agent or arp yet${addresses.notTaken ? `; ${addresses.notTaken}` : ''}`;
}

/** Polls until the VM has an address of its current run (any source: see run-addresses.ts); returns them. */
export async function waitForAddress(ctx: Context, name: string, timeoutSeconds: number): Promise<FoundAddress[]> {
  const addresses = new RunAddresses(ctx, name);
  try {
    return await poll(
      ctx,
      {
        timeoutMs: timeoutSeconds * 1000,
        what: `VM ${JSON.stringify(name)} to get an IP address`,
      vm: name,
        hint: `see what the guest printed with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}; check that its network hands out addresses (DHCP)`,
      },
      async () => {
        const { state, reason } = await readVmState(ctx, name);
        if (state !== 'running') throw notRunning(ctx.uri, name, state, reason, 'get an address');
        const found = await addresses.look();
        return found.length > 0 ? { done: true, value: found } : { done: false, status: noAddressYet(addresses) };
      },
    );
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    // A guest with a NoCloud seed gets its network config from cloud-init: say what the console showed of it.
    const seen = await seedConsole(ctx, name);
    if (seen === undefined) throw err;
    throw new TimeoutError(`${err.message}; ${describeCloudInitConsole(seen.console, seen.file)}`, `see the whole console with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`, { object: { kind: 'vm', name } });
  }
}

/** The cloud-init lines of the serial log of a VM kvmctl gave a seed; undefined when there is none to read. */
async function seedConsole(ctx: Context, name: string): Promise<{ file: string; console: CloudInitConsole } | undefined> {
  if (!isLocalUri(ctx.uri)) return undefined;
  let def: DomainDefinition;
  try {
    def = await parseDomainXml(await ctx.virsh.run(domainCalls.dumpxml(name, true)));
  } catch {
    return undefined;
  }
  const file = def.serialLogs[0];
  if (def.kvmctl?.seed === undefined || file === undefined) return undefined;
  return { file, console: readCloudInitConsole((await ctx.fs.read(file)) ?? '') };
}

export interface Readiness {
  /** cloud-init's final console line ("Cloud-init v. … finished at …"). */
  finished: string;
  upSeconds?: number;
  datasource?: string;
  /** Its WARNING/ERROR/CRITICAL records of this boot: none means cloud-init reported no problem. */
  problems: string[];
}

/**
 * Polls the serial log until cloud-init has finished this boot ("ready": users,
 * keys, network config and user scripts are done, which is later than the
 * first lease). Exit 1 when it finished with errors, naming them.
 */
export async function waitForReady(ctx: Context, name: string, timeoutSeconds: number): Promise<Readiness> {
  const def = await parseDomainXml(await ctx.virsh.run(domainCalls.dumpxml(name, true)));
  const file = def.serialLogs[0];
  if (file === undefined) {
    throw new RefusedError(`VM ${JSON.stringify(name)} keeps no serial log, so kvmctl cannot see cloud-init finish`, `wait for its address instead: ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ip')}`);
  }
  if (!isLocalUri(ctx.uri)) {
    throw new RefusedError(`readiness is read from the serial log of VM ${JSON.stringify(name)}, a file on the libvirt host (${file}); kvmctl reads it only for a local URI`, `wait for its address instead: ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ip')}`);
  }
  const seen = await poll(
    ctx,
    {
      timeoutMs: timeoutSeconds * 1000,
      what: `VM ${JSON.stringify(name)} to be ready (cloud-init finished)`,
      vm: name,
      hint: `see the whole console with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`,
    },
    async () => {
      const { state, reason } = await readVmState(ctx, name);
      if (state !== 'running') throw notRunning(ctx.uri, name, state, reason, 'become ready');
      const c = readCloudInitConsole((await ctx.fs.read(file)) ?? '');
      return c.finished ? { done: true, value: { ...c, finished: c.finished } } : { done: false, status: describeCloudInitConsole(c, file) };
    },
  );
  const ready: Readiness = { finished: seen.finished.line, upSeconds: seen.finished.upSeconds, datasource: seen.finished.datasource, problems: seen.problems };
  if (ready.problems.length > 0) {
    throw new KvmctlError(
      `VM ${JSON.stringify(name)}: cloud-init finished with ${ready.problems.length} problem${ready.problems.length === 1 ? '' : 's'}: ${ready.problems.slice(-5).join(' | ')}`,
      `read them in the guest (cloud-init status --long; /var/log/cloud-init.log) or with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`,
    );
  }
  return ready;
}

/** --wait ready: cloud-init finished, then the addresses (with what is left of the same timeout). */
export async function waitForReadyAddress(ctx: Context, name: string, timeoutSeconds: number): Promise<{ ready: Readiness; addresses: FoundAddress[] }> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const ready = await waitForReady(ctx, name, timeoutSeconds);
  const addresses = await waitForAddress(ctx, name, Math.max(1, Math.round((deadline - Date.now()) / 1000)));
  return { ready, addresses };
}

/** Polls until the guest agent answers a guest-ping; a VM without the agent's channel fails at once (exit 5). */
export function waitForAgent(ctx: Context, name: string, timeoutSeconds: number): Promise<true> {
  return poll(
    ctx,
    {
      timeoutMs: timeoutSeconds * 1000,
      what: `the guest agent of VM ${JSON.stringify(name)} to answer`,
      hint: `check that qemu-guest-agent is installed and running in the guest (${kvmctlCommand(ctx.uri, 'vm', 'log', name)} shows the boot)`,
    },
    async () => {
      const { state, reason } = await readVmState(ctx, name);
      if (state !== 'running') throw notRunning(ctx.uri, name, state, reason, 'answer through its agent');
      const problem = await pingAgent(ctx, name);
      return problem === undefined ? { done: true, value: true } : { done: false, status: problem };
    },
  );
}

/** Polls until an ssh server answers on port 22 of the VM's address; returns that address and the server's banner. */
export function waitForSsh(ctx: Context, name: string, timeoutSeconds: number, port = 22): Promise<{ address: string; banner: string }> {
  const addresses = new RunAddresses(ctx, name);
  return poll(
    ctx,
    {
      timeoutMs: timeoutSeconds * 1000,
      what: `an ssh server on VM ${JSON.stringify(name)}`,
      hint: `see what the guest printed with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}; kvmctl runs in its own network namespace: where guests are reachable only inside one, run it there (ip netns exec NS kvmctl …)`,
    },
    async () => {
      const { state, reason } = await readVmState(ctx, name);
      if (state !== 'running') throw notRunning(ctx.uri, name, state, reason, 'answer on ssh');
      const found = await addresses.look();
      const address = (found.find((a) => a.protocol === 'ipv4') ?? found[0])?.address;
      if (address === undefined) return { done: false, status: noAddressYet(addresses) };
      const seen = await probeSsh(address, port, 3000);
      return seen.ok ? { done: true, value: { address, banner: seen.banner } } : { done: false, status: seen.status };
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
      vm: name,
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

const options = {
  for: value(
    '--for <what>',
    'ip, ready (cloud-init finished, read from the serial log; then the address), agent (the guest agent answers), ssh (an ssh server answers on port 22; then the address), running or shutoff; all but running and shutoff fail at once (exit 5) on a VM that is not running; an address counts only if it is of the current run (a lease made after it started, the guest agent, a new ARP entry)',
    { choices: WAIT_TARGETS },
  ),
  timeout: value('--timeout <seconds>', 'give up after this long (default 300)'),
};
export type WaitOptions = OptionsOf<typeof options>;

export async function runVmWait(ctx: Context, name: string, opts: WaitOptions): Promise<void> {
  checkVmName(name);
  const target = opts.for;
  if (!(WAIT_TARGETS as readonly (string | undefined)[]).includes(target)) {
    throw new UsageError(`--for ${JSON.stringify(target ?? '')}: expected ${WAIT_TARGETS.join(', ')}`, `e.g. ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ip')}`);
  }
  const timeoutSeconds = countOption(opts.timeout, '--timeout', 0, 86_400, 300);
  if (target === 'ip') {
    const found = await waitForAddress(ctx, name, timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ name, addresses: found.map(addressObject) });
    return ctx.out.raw(found.map((a) => a.address).join('\n'));
  }
  if (target === 'ready') {
    const { ready, addresses } = await waitForReadyAddress(ctx, name, timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ name, ready: true, cloudInit: cloudInitObject(ready), addresses: addresses.map(addressObject) });
    ctx.out.info(readyLine(name, ready));
    return ctx.out.raw(addresses.map((a) => a.address).join('\n'));
  }
  if (target === 'agent') {
    await waitForAgent(ctx, name, timeoutSeconds);
    return ctx.out.done(`the guest agent of vm ${name} answers`, { name, agent: true });
  }
  if (target === 'ssh') {
    const { address, banner } = await waitForSsh(ctx, name, timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ name, ssh: true, address, banner });
    ctx.out.info(`vm ${name} answers on ssh (${banner})`);
    return ctx.out.raw(address);
  }
  const state = await waitForState(ctx, name, target as 'running' | 'shutoff', timeoutSeconds);
  ctx.out.done(`vm ${name} is ${state}`, { name, state });
}

export const waitCommand = vmVerb('wait', 'wait until the VM has an IP address, is ready (cloud-init finished), its guest agent or ssh server answers, or it is running or shut off; exit 6 on timeout', runVmWait, {
  options,
  examples: ['kvmctl vm wait web1 --for ip', 'kvmctl vm wait web1 --for ready', 'kvmctl vm wait web1 --for ssh', 'kvmctl vm wait web1 --for agent', 'kvmctl vm wait web1 --for shutoff --timeout 120'],
  // --for is required: commander says so (exit 2) before anything runs.
  configure: (cmd) => cmd.options.find((o) => o.long === '--for')?.makeOptionMandatory(),
});

export function readyLine(name: string, r: Readiness): string {
  return `vm ${name} is ready: cloud-init finished${r.upSeconds !== undefined ? ` ${Math.round(r.upSeconds)} s after boot` : ''}${r.datasource ? ` (${r.datasource})` : ''}, no problems reported`;
}
