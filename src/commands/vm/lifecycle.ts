/**
 * `vm start | reboot | suspend | resume | destroy | autostart [--disable]`.
 * Each reads the state first: asking for the state a VM is already in is
 * "unchanged" (exit 0); asking for something its state does not allow is
 * exit 5 with the state named.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { domainCommands, parseDominfo } from '../../libvirt/domain-commands.js';
import { isActive } from '../../libvirt/domains.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { checkVmName, readVmState } from './domain-state.js';
import { kvmctlCommand } from '../../exec/command.js';

function unchanged(ctx: Context, name: string, state: string, why: string): void {
  ctx.out.done(`vm ${name} unchanged (${why})`, { name, state, changed: false });
}

function changed(ctx: Context, name: string, state: string, what: string): void {
  ctx.out.done(`vm ${name} ${what}`, { name, state, changed: true });
}

function refuse(name: string, state: string, verb: string, hint: string): RefusedError {
  return new RefusedError(`cannot ${verb} VM ${JSON.stringify(name)}: it is ${state}`, hint);
}

export async function runVmStart(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  await runVirsh(ctx.runner, domainCommands.start(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'started');
}

export async function runVmReboot(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state !== 'running') throw refuse(name, state, 'reboot', state === 'paused' ? `resume it first: ${kvmctlCommand(ctx.uri, 'vm', 'resume', name)}` : `start it instead: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.reboot(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'asked to reboot (ACPI)');
}

export async function runVmSuspend(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'paused') return unchanged(ctx, name, state, 'already paused');
  if (state !== 'running') throw refuse(name, state, 'suspend', `only a running VM can be suspended; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.suspend(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'paused', 'suspended (paused)');
}

export async function runVmResume(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (state === 'running') return unchanged(ctx, name, state, 'already running');
  if (state !== 'paused') throw refuse(name, state, 'resume', `only a paused VM can be resumed; start it with: ${kvmctlCommand(ctx.uri, 'vm', 'start', name)}`);
  await runVirsh(ctx.runner, domainCommands.resume(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'resumed');
}

export async function runVmDestroy(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (!isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  await runVirsh(ctx.runner, domainCommands.destroy(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'shutoff', 'powered off (destroyed; its disks and definition are kept)');
}

export async function runVmAutostart(ctx: Context, name: string, opts: { disable?: boolean }): Promise<void> {
  checkVmName(name);
  const enable = opts.disable !== true;
  const info = parseDominfo(await runVirsh(ctx.runner, domainCommands.dominfo(ctx.uri, name), { kind: 'vm', name }));
  if (info.persistent === false) throw new RefusedError(`VM ${JSON.stringify(name)} is transient (not defined): libvirt cannot autostart it`, `define it persistently first (virsh dumpxml ${name} > vm.xml; virsh define vm.xml)`);
  const word = enable ? 'enabled' : 'disabled';
  const json = { name, autostart: enable };
  if (info.autostart === enable) return ctx.out.done(`vm ${name} unchanged (autostart already ${word})`, { ...json, changed: false });
  await runVirsh(ctx.runner, domainCommands.autostart(ctx.uri, name, enable), { kind: 'vm', name });
  ctx.out.done(`vm ${name}: autostart ${word}`, { ...json, changed: true });
}
