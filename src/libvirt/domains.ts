/**
 * All domains with their definitions in two virsh processes, however many
 * exist: one batch for states and autostart flags, one batch of dumpxml.
 * Used wherever kvmctl must know which VMs use a volume, network or bridge.
 */
import type { Runner } from '../exec/runner.js';
import { parseDomstats, stateName } from './domstats.js';
import { parseDomainXml, type DomainDefinition } from './domain-xml.js';
import { runVirshBatch } from './virsh.js';

export interface DomainRecord {
  name: string;
  /** running, shutoff, paused, ... */
  state: string;
  autostart: boolean;
  definition: DomainDefinition;
}

export async function loadDomains(runner: Runner, uri: string): Promise<DomainRecord[]> {
  const first = await runVirshBatch(runner, uri, [
    ['domstats', '--raw', '--state'],
    ['list', '--all', '--autostart', '--name'],
  ]);
  const stats = parseDomstats(first.outputs[0] ?? '');
  if (stats.length === 0) {
    if (first.stderr.trim()) throw new Error(`could not list domains: ${first.stderr.trim()}`);
    return [];
  }
  const autostart = new Set((first.outputs[1] ?? '').split('\n').filter((l) => l !== ''));
  const second = await runVirshBatch(
    runner,
    uri,
    stats.map((s) => ['dumpxml', '--domain', s.name]),
  );
  const records = await Promise.all(
    stats.map(async (s, i): Promise<DomainRecord | undefined> => {
      const xml = second.outputs[i] ?? '';
      // A domain undefined between the two calls has an empty section.
      if (!xml.trim()) return undefined;
      return { name: s.name, state: stateName(s.stats), autostart: autostart.has(s.name), definition: await parseDomainXml(xml) };
    }),
  );
  return records.filter((r): r is DomainRecord => r !== undefined);
}

/** States in which a domain's qemu process exists and holds its disks open. */
export function isActive(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'blocked' || state === 'pmsuspended' || state === 'shutdown';
}
