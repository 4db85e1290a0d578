/**
 * All domains with their definitions in two rounds of reads, however many
 * exist: states and autostart flags, then every dumpxml. In a session
 * (`rounds`, as net leases reads them) that is no virsh process of its own; by
 * default, a batch process a round. Used wherever kvmctl must know which VMs
 * use a volume, network or bridge.
 */
import type { Runner } from '../exec/runner.js';
import { domainCalls } from './domain-commands.js';
import { domstatsCall, parseDomstats, stateName } from './domstats.js';
import { parseDomainXml, type DomainDefinition } from './domain-xml.js';
import { Virsh, type ReadRounds } from './virsh-client.js';

export interface DomainRecord {
  name: string;
  /** running, shutoff, paused, ... */
  state: string;
  autostart: boolean;
  definition: DomainDefinition;
}

export async function loadDomains(runner: Runner, uri: string, rounds?: ReadRounds): Promise<DomainRecord[]> {
  const reads = rounds ?? new Virsh(runner, uri).batchRounds();
  const first = await reads.round({ stats: domstatsCall(['state']), autostart: domainCalls.listAutostartNames() });
  const stats = parseDomstats(first.out.stats);
  if (stats.length === 0) {
    if (first.stderr.trim()) throw new Error(`could not list domains: ${first.stderr.trim()}`);
    return [];
  }
  const autostart = new Set(first.out.autostart.split('\n').filter((l) => l !== ''));
  const { xml } = (await reads.round({ xml: stats.map((s) => domainCalls.dumpxml(s.name)) })).out;
  const records = await Promise.all(
    stats.map(async (s, i): Promise<DomainRecord | undefined> => {
      const text = xml[i] ?? '';
      // A domain undefined between the two calls has an empty section.
      if (!text.trim()) return undefined;
      return { name: s.name, state: stateName(s.stats), autostart: autostart.has(s.name), definition: await parseDomainXml(text) };
    }),
  );
  return records.filter((r): r is DomainRecord => r !== undefined);
}

/** States in which a domain's qemu process exists and holds its disks open. */
export function isActive(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'blocked' || state === 'pmsuspended' || state === 'shutdown';
}
