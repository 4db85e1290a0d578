/** net start | stop | autostart | delete: each does nothing ("unchanged") when the network is already as asked. */
import type { Context } from '../../context.js';
import { formatCommand, kvmctlCommand } from '../../exec/command.js';
import { RefusedError } from '../../errors.js';
import { loadDomains } from '../../libvirt/domains.js';
import {
  loadNetwork,
  netAutostartCommand,
  netDestroyCommand,
  netStartCommand,
  netUndefineCommand,
  type NetworkRecord,
} from '../../libvirt/network-commands.js';
import { runVirsh, type Subject } from '../../libvirt/virsh.js';
import { running, vmsOnNetwork } from './vm-owners.js';

const subject = (name: string): Subject => ({ kind: 'network', name });

async function load(ctx: Context, name: string): Promise<NetworkRecord> {
  return loadNetwork(ctx.runner, ctx.uri, name, { leases: false });
}

function unchanged(ctx: Context, name: string, why: string, json: Record<string, unknown>): void {
  ctx.out.done(`network ${name} unchanged: ${why}`, { name, changed: false, ...json });
}

export async function runNetStart(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  if (net.active) return unchanged(ctx, name, 'already active', { active: true });
  await runVirsh(ctx.runner, netStartCommand(ctx.uri, name), subject(name));
  ctx.out.done(`network ${name} started`, { name, changed: true, active: true });
}

/** Names the running VMs on a network, for refusals. */
async function runningUsers(ctx: Context, name: string): Promise<string[]> {
  return running(vmsOnNetwork(await loadDomains(ctx.runner, ctx.uri), name)).map((d) => d.name);
}

export async function runNetStop(ctx: Context, name: string, opts: { force?: boolean }): Promise<void> {
  const net = await load(ctx, name);
  if (!net.active) return unchanged(ctx, name, 'not active', { active: false });
  const users = await runningUsers(ctx, name);
  if (users.length > 0 && !opts.force) {
    throw new RefusedError(
      `network ${name} is in use by running VM(s): ${users.join(', ')}; stopping it cuts them off`,
      `shut them down first, or stop it anyway with: ${kvmctlCommand(ctx.uri, 'net', 'stop', name, '--force')}`,
    );
  }
  await runVirsh(ctx.runner, netDestroyCommand(ctx.uri, name), subject(name));
  const gone = net.persistent ? '' : ' (it was transient, so it no longer exists)';
  ctx.out.done(`network ${name} stopped${gone}`, { name, changed: true, active: false, removed: !net.persistent });
}

export async function runNetAutostart(ctx: Context, name: string, opts: { disable?: boolean }): Promise<void> {
  const enable = !opts.disable;
  const net = await load(ctx, name);
  if (net.autostart === enable) return unchanged(ctx, name, `autostart already ${enable ? 'on' : 'off'}`, { autostart: enable });
  if (!net.persistent) {
    throw new RefusedError(`network ${name} is transient: libvirt cannot start it at boot`, 'define it persistently (kvmctl net create) to use autostart');
  }
  await runVirsh(ctx.runner, netAutostartCommand(ctx.uri, name, enable), subject(name));
  ctx.out.done(`network ${name}: autostart ${enable ? 'on' : 'off'}`, { name, changed: true, autostart: enable });
}

export async function runNetDelete(ctx: Context, name: string): Promise<void> {
  const net = await load(ctx, name);
  const domains = await loadDomains(ctx.runner, ctx.uri);
  const users = vmsOnNetwork(domains, name);
  const busy = running(users).map((d) => d.name);
  if (busy.length > 0) {
    throw new RefusedError(`network ${name} is in use by running VM(s): ${busy.join(', ')}`, 'shut them down (or move their interfaces to another network) first');
  }
  await ctx.transaction(`net delete ${name}`).run(async (tx) => {
    if (net.active) {
      await runVirsh(ctx.runner, netDestroyCommand(ctx.uri, name), subject(name));
      // Only a persistent network can be started again after an undefine fails.
      if (net.persistent) {
        tx.onRollback({
          what: `stopped network ${name}`,
          manual: formatCommand(netStartCommand(ctx.uri, name)),
          run: async () => void (await runVirsh(ctx.runner, netStartCommand(ctx.uri, name), subject(name))),
        });
      }
    }
    if (net.persistent) await runVirsh(ctx.runner, netUndefineCommand(ctx.uri, name), subject(name));
  });
  const idle = users.map((d) => d.name);
  if (idle.length > 0) ctx.out.warn(`VM(s) ${idle.join(', ')} still have an interface on network ${name} and will not start until it is changed`);
  ctx.out.done(`network ${name} deleted`, { name, changed: true, vmsStillReferencing: idle });
}
