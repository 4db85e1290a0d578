/**
 * What `vm migrate -o json` prints (schemas/vm-migrate.schema.json): one JSON
 * object a line, each with its event, when it happened and the VM. Every key
 * is present in every event of its kind; what libvirt did not report is null.
 */
import type { MigrationProgress } from '../../libvirt/migration.js';
import type { DiskPlan } from './migrate-plan.js';

export interface MigrationDisk {
  target: string;
  path: string;
  action: DiskPlan['action'];
  targetPath: string;
  targetPool: string | null;
}

export function migrationDisk(d: DiskPlan): MigrationDisk {
  return { target: d.target, path: d.path, action: d.action, targetPath: d.targetPath, targetPool: d.targetPool ?? null };
}

const seconds = (ms: number | undefined) => (ms === undefined ? null : ms / 1000);

/** The counters of the job info a `progress` event carries, in bytes (null: libvirt did not report it). */
const BYTE_FIELDS = [
  'dataTotalBytes',
  'dataProcessedBytes',
  'dataRemainingBytes',
  'memoryTotalBytes',
  'memoryProcessedBytes',
  'memoryRemainingBytes',
  'memoryBytesPerSecond',
  'diskTotalBytes',
  'diskProcessedBytes',
  'diskRemainingBytes',
] as const;

/** A `progress` event's fields: the source's job info, in bytes and seconds. */
export function progressFields(p: MigrationProgress): Record<string, number | null> {
  return {
    timeElapsedSeconds: seconds(p.timeElapsedMs),
    ...Object.fromEntries(BYTE_FIELDS.map((k) => [k, p[k] ?? null])),
    expectedDowntimeSeconds: seconds(p.expectedDowntimeMs),
    iteration: p.iteration ?? null,
  };
}

/** One line of the stream. */
export function migrationEvent(event: 'start' | 'progress' | 'suspend' | 'migrated', name: string, fields: Record<string, unknown>, now = new Date()): string {
  return JSON.stringify({ event, occurredAt: now.toISOString(), name, ...fields });
}
