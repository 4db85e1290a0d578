/**
 * `vm snapshot create NAME [SNAP] [--description TEXT]`: needs every writable
 * disk to be qcow2; libvirt says which is not.
 */
import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import type { Context } from '../../../context.js';
import { ConflictError } from '../../../errors.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { domainCommands } from '../../../libvirt/domain-commands.js';
import { runVirsh } from '../../../libvirt/virsh.js';
import { validateName } from '../../../validate/names.js';
import { checkVmName } from '../domain-state.js';
import { readSnapshots } from './snapshots.js';

export interface SnapshotCreateOptions {
  description?: string;
}

export function snapshotCreateCommand(app: App): Command {
  return new Command('create')
    .description('take a snapshot (default name: snap-YYYYMMDD-HHMMSS)')
    .argument('<name>', 'VM name')
    .argument('[snapshot]', 'snapshot name')
    .option('--description <text>', 'a note kept with it')
    .addHelpText('after', examples('kvmctl vm snapshot create web1', 'kvmctl vm snapshot create web1 before-upgrade --description "before apt upgrade"'))
    .action(app.action(async (ctx, name: string, snap: string | undefined, opts: SnapshotCreateOptions) => runSnapshotCreate(ctx, name, snap, opts)));
}

/** snap-20261125-010203 (UTC): sortable, and unique unless two are taken within a second. */
export function defaultSnapshotName(now: Date): string {
  const iso = now.toISOString();
  return `snap-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export async function runSnapshotCreate(ctx: Context, name: string, snap: string | undefined, opts: SnapshotCreateOptions): Promise<void> {
  checkVmName(name);
  const snapshot = validateName('snapshot', snap ?? defaultSnapshotName(new Date()));
  const existing = await readSnapshots(ctx, name);
  if (existing.some((s) => s.name === snapshot)) {
    throw new ConflictError(`VM ${JSON.stringify(name)} already has a snapshot ${JSON.stringify(snapshot)}; it was left unchanged`, `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'snapshot', 'delete', name, snapshot)}`);
  }
  await runVirsh(ctx.runner, domainCommands.snapshotCreate(ctx.uri, name, snapshot, opts.description), { kind: 'vm', name });
  ctx.out.done(`vm ${name}: snapshot ${snapshot} created`, { name, snapshot });
}
