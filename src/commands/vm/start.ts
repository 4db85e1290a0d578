/**
 * `vm start NAME [--force]`: refused (exit 5) while its disk is the base image
 * of an overlay, which a running VM writing to it would corrupt.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { isActive, loadDomains } from '../../libvirt/domains.js';
import { diskPath } from '../../libvirt/domain-xml.js';
import { dependentVolumes, loadPools, loadVolumes, volumeUsers } from '../../libvirt/storage.js';
import { flag, type OptionsOf } from '../../verb.js';
import { checkVmName, readVmState } from './domain-state.js';
import { changed, unchanged } from './lifecycle.js';
import { startNoted } from './run-addresses.js';
import { vmsVerb } from './vm-name.js';

const options = { force: flag('--force', 'start it even though overlays use its disk as their base image (they will be corrupted)') };
export type StartOptions = OptionsOf<typeof options>;

export async function runVmStart(ctx: Context, name: string, opts: StartOptions = {}): Promise<void> {
  checkVmName(name);
  const { state } = await readVmState(ctx, name);
  if (isActive(state)) return unchanged(ctx, name, state, `already ${state}`);
  if (opts.force !== true) await refuseLinkedBase(ctx, name);
  await startNoted(ctx, name);
  changed(ctx, name, 'running', 'started');
}

export const startCommand = vmsVerb('start', "start a VM; refused (exit 5) while its disk is the base image of an overlay (a linked clone's disk)", runVmStart, {
  options,
  examples: ['kvmctl vm start web1'],
});

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
