/**
 * Runs a planned migration: creates the target disks libvirt does not
 * (copy-inc), starts `virsh migrate`, shows the source's job info while it
 * runs (spinner, or NDJSON events with -o json), aborts it on Ctrl-C, SIGTERM,
 * SIGHUP or --timeout (SIGINT alone does not stop a running `virsh migrate`),
 * and then reads both hosts to say where the VM is and what to do.
 */
import type { Context } from '../../context.js';
import { InterruptedError, PartialError, RolledBackError, TimeoutError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { moveDiskSources, withXmlFiles, type MigrateArgs, type MigrationClient, type MigrationProgress } from '../../libvirt/migration.js';
import { libvirtMessage } from '../../libvirt/virsh.js';
import { withSpinner } from '../../output/spinner.js';
import { formatBytes } from '../../units/size.js';
import type { MigrationPlan } from './migrate-plan.js';
import { migrationDisk, migrationEvent, progressFields } from './migrate-events.js';

export type OnTimeout = 'abort' | 'suspend';

export interface MigrationJob {
  name: string;
  source: { uri: string; label: string };
  target: { uri: string; label: string; migrationAddress?: string };
  plan: MigrationPlan;
  /** The source's migratable XML (live and persistent), rewritten when disks move to other paths. */
  xml: { live: string; persistent: string };
  keepSource: boolean;
  timeoutS?: number;
  onTimeout: OnTimeout;
  bandwidthMiB?: number;
}

const POLL_MS = 1000;

/** The spinner's text (the spinner adds the time elapsed); nothing of the job's until the source has begun to send. */
function progressText(job: MigrationJob, p: MigrationProgress | undefined): string {
  const head = `migrating ${job.name} to ${job.target.label}`;
  if (!p?.dataTotalBytes) return head;
  const parts = [
    `${formatBytes(p.dataProcessedBytes ?? 0)} of ${formatBytes(p.dataTotalBytes)} sent, ${formatBytes(p.dataRemainingBytes ?? 0)} left`,
    p.diskTotalBytes ? `disks ${formatBytes(p.diskProcessedBytes ?? 0)} of ${formatBytes(p.diskTotalBytes)}` : undefined,
    p.memoryBytesPerSecond !== undefined ? `${formatBytes(p.memoryBytesPerSecond)}/s` : undefined,
    p.expectedDowntimeMs !== undefined ? `expected downtime ${p.expectedDowntimeMs} ms` : undefined,
  ].filter(Boolean);
  return `${head}: ${parts.join(', ')}`;
}

export async function runMigrationJob(ctx: Context, hosts: MigrationClient, job: MigrationJob): Promise<void> {
  const { name, plan } = job;
  const emit = (event: Parameters<typeof migrationEvent>[0], fields: Record<string, unknown>) => {
    if (ctx.out.json) ctx.io.stdout(migrationEvent(event, name, fields) + '\n');
  };
  const copied = plan.disks.filter((d) => d.action !== 'shared');
  const moves = new Map(copied.filter((d) => d.targetPath !== d.path).map((d) => [d.path, d.targetPath]));
  const xmls = moves.size > 0 ? { live: await moveDiskSources(job.xml.live, moves, plan.storage === 'copy-inc'), persistent: await moveDiskSources(job.xml.persistent, moves, plan.storage === 'copy-inc') } : undefined;
  const summary = { source: job.source.label, target: job.target.label, live: plan.live, storage: plan.storage, disks: plan.disks.map(migrationDisk) };
  emit('start', summary);

  // Target disks that exist only because of this run, removed again if it fails.
  const created: Array<{ pool: string; name: string }> = [];
  for (const d of copied) {
    if (d.create) {
      await hosts.createTargetVolume({ ...d.create, format: d.create.format as never, backingFormat: d.create.backingFormat as never, allocationBytes: 0 });
    }
    if (d.targetPool) created.push({ pool: d.targetPool, name: d.targetPath.replace(/^.*\//, '') });
  }

  const startedAt = Date.now();
  let why: 'signal' | 'timeout' | undefined;
  let suspended = false;
  const result = await withXmlFiles(xmls, (files) =>
    withSpinner(ctx, `migrating ${name} to ${job.target.label}`, async (update) => {
      const args: MigrateArgs = {
        name,
        targetUri: job.target.uri,
        live: plan.live,
        keepSource: job.keepSource,
        copy: copied.length > 0 ? { mode: plan.storage === 'copy-inc' ? 'copy-inc' : 'copy', disks: copied.map((d) => d.target) } : undefined,
        unsafe: plan.unsafe,
        migrationAddress: job.target.migrationAddress,
        bandwidthMiB: job.bandwidthMiB,
        xmlFile: files?.live,
        persistentXmlFile: files?.persistent,
      };
      let settled = false;
      const running = hosts.migrate(args).finally(() => (settled = true));
      if (ctx.dryRun) return running;
      const abort = async (reason: 'signal' | 'timeout') => {
        if (why) return;
        why = reason;
        // Until the source has started its job there is nothing to abort yet: ask again.
        while (!settled) {
          if (await hosts.abort(name)) return;
          await new Promise((res) => setTimeout(res, 200));
        }
      };
      const onSignal = () => void abort('signal');
      ctx.signal.addEventListener('abort', onSignal, { once: true });
      const timer =
        job.timeoutS === undefined
          ? undefined
          : setTimeout(() => {
              if (job.onTimeout === 'abort') return void abort('timeout');
              suspended = true;
              emit('suspend', { afterSeconds: job.timeoutS });
              void hosts.suspend(name);
            }, job.timeoutS * 1000);
      try {
        while (!settled && plan.live) {
          await Promise.race([running, new Promise((r) => setTimeout(r, POLL_MS))]);
          if (settled || ctx.signal.aborted) break;
          const p = await hosts.jobInfo(name);
          if (!p || settled || p.jobType !== 'unbounded') continue;
          update(progressText(job, p));
          emit('progress', progressFields(p));
        }
        return await running;
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onSignal);
      }
    }),
  );
  const seconds = Math.round((Date.now() - startedAt) / 100) / 10;
  if (ctx.dryRun) return ctx.out.done(`vm ${name} would be migrated to ${job.target.label}`, { changed: false, name, ...summary });

  const on = { target: await hosts.stateOf('target', name), source: await hosts.stateOf('source', name) };
  const arrived = plan.live ? on.target === 'running' || on.target === 'paused' : on.target === 'shutoff';
  if (result.exitCode === 0 || (arrived && on.source !== 'running')) {
    const mode = plan.live ? 'live' : 'offline';
    const note = suspended ? `; it was paused after ${job.timeoutS} s (--on-timeout suspend)` : '';
    // libvirt copies disks and leaves the source's files as they were: say which, never delete them unasked.
    const sourceDisksKept = copied.map((d) => d.path);
    const final = { changed: true, ...summary, state: on.target ?? 'unknown', sourceDefined: on.source !== undefined, sourceDisksKept, durationSeconds: seconds, suspendedAfterTimeout: suspended };
    if (ctx.out.json) return emit('migrated', final);
    const kept = sourceDisksKept.length > 0 ? `; the source keeps its copy of ${sourceDisksKept.join(', ')}` : '';
    return ctx.out.done(`vm ${name} migrated to ${job.target.label} (${mode}, storage ${plan.storage}) in ${seconds} s; ${on.target ?? 'unknown'} there${job.keepSource ? ', still defined here' : ''}${note}${kept}`, final);
  }

  // Failed: nothing of this run may stay on the target unless the VM is there.
  const left: string[] = [];
  if (on.target === undefined) {
    for (const v of created) {
      const failed = await hosts.deleteTargetVolume(v.pool, v.name);
      if (failed !== undefined) left.push(`volume ${v.pool}/${v.name} on ${job.target.label} (${failed}; remove it: ${kvmctlCommand(job.target.uri, 'volume', 'delete', `${v.pool}/${v.name}`)})`);
    }
  }
  const detail = why === 'signal' ? 'interrupted; the job was aborted' : why === 'timeout' ? `not finished within ${job.timeoutS} s; the job was aborted` : libvirtMessage(result.stderr);
  const object = { object: { kind: 'vm', name } };
  if (on.source === 'running' && on.target === undefined && left.length === 0) {
    const message = `migration of VM ${JSON.stringify(name)} to ${job.target.label} failed (${detail}); it still runs on ${job.source.label}, nothing is left on ${job.target.label}`;
    if (why === 'signal') throw new InterruptedError(message, `nothing changed; to try again: ${kvmctlCommand(job.source.uri, 'vm', 'migrate', name, '--to', job.target.label)}`, object);
    if (why === 'timeout') throw new TimeoutError(message, `allow more time (--timeout), more bandwidth (--bandwidth), or let it finish paused (--on-timeout suspend)`, object);
    throw new RolledBackError(message, `see why on the target: ${kvmctlCommand(job.target.uri, 'host', 'check')}; retry with -v to see the virsh command`, object);
  }
  const recover: string[] = [];
  if (on.source === 'paused') recover.push(kvmctlCommand(job.source.uri, 'vm', 'resume', name));
  else if (on.source === 'shutoff' && on.target === undefined) recover.push(kvmctlCommand(job.source.uri, 'vm', 'start', name));
  if (on.target === 'paused') recover.push(kvmctlCommand(job.target.uri, 'vm', 'resume', name));
  if (on.target === 'shutoff') recover.push(kvmctlCommand(job.target.uri, 'vm', 'start', name));
  if (on.source === undefined && on.target === undefined) recover.push(`${kvmctlCommand(job.target.uri, 'vm', 'list')} and ${kvmctlCommand(job.source.uri, 'vm', 'list')} (libvirt lost the definition on both hosts)`);
  const state = `on ${job.source.label}: ${on.source ?? 'absent'}, on ${job.target.label}: ${on.target ?? 'absent'}`;
  throw new PartialError(
    `migration of VM ${JSON.stringify(name)} to ${job.target.label} failed (${detail}) and it runs nowhere (${state})`,
    left,
    `recover with: ${recover.join('; then ') || 'nothing to run'}${left.length ? `; also left: ${left.join('; ')}` : ''}`,
    object,
  );
}
