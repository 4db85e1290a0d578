/**
 * `vm start | reboot | suspend | resume | destroy | autostart [--disable]`.
 * Each reads the state first: asking for the state a VM is already in is
 * "unchanged" (exit 0); asking for something its state does not allow is
 * exit 5 with the state named.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { domainCommands, parseDominfo } from '../../libvirt/domain-commands.js';
import { isActive, loadDomains } from '../../libvirt/domains.js';
import { diskPath } from '../../libvirt/domain-xml.js';
import { dependentVolumes, loadPools, loadVolumes, volumeUsers } from '../../libvirt/storage.js';
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

export async function runVmStart(ctx: Context, name: string, opts: { force?: boolean } = {}): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  if (opts.force !== true) await refuseLinkedBase(ctx, name);
  await runVirsh(ctx.runner, domainCommands.start(ctx.uri, name), { kind: 'vm', name });
  changed(ctx, name, 'running', 'started');
}

/**
 * A disk that is the backing file of another volume (a `vm clone --linked`
 * overlay, a `vm create --image` of it) must stay unchanged: a running VM
 * writing to it silently corrupts every overlay. Constant virsh calls: the
 * domains, the pools, their volumes.
 */
async function refuseLinkedBase(ctx: Context, name: string): Promise<void> {
  const [domains, pools] = await Promise.all([loadDomains(ctx.runner, ctx.uri), loadPools(ctx.runner, ctx.uri)]);
  const vm = domains.find((d) => d.name === name);
  if (!vm) return;
  const volumes = await loadVolumes(ctx.runner, ctx.uri, pools.filter((p) => p.active));
  const others = domains.filter((d) => d.name !== name);
  const found: string[] = [];
  const clones = new Set<string>();
  for (const disk of vm.definition.disks) {
    const path = diskPath(disk);
    if (disk.device !== 'disk' || disk.readonly === true || path === undefined) continue;
    for (const o of dependentVolumes(volumes, { path })) {
      const users = [...new Set(volumeUsers(others, o).map((u) => u.vm))];
      users.forEach((u) => clones.add(u));
      found.push(`${disk.target.dev} is the base image of ${o.pool}/${o.name}${users.length > 0 ? ` (disk of VM ${users.join(', ')})` : ''}`);
    }
  }
  if (found.length === 0) return;
  const list = [...clones];
  throw new RefusedError(
    `cannot start VM ${JSON.stringify(name)}: its disk ${found.join('; ')}; writing to it would corrupt ${list.length > 0 ? `the disks of ${list.join(', ')}` : 'those overlays'}`,
    list.length > 0
      ? `start the clone instead, or delete it first (${kvmctlCommand(ctx.uri, 'vm', 'delete', list[0]!, '--remove-storage')}); --force starts ${name} anyway`
      : `delete the overlays first, or add --force to start ${name} anyway`,
  );
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
