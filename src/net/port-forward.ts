/** Port forwards: their ids, port ranges, and the forwards read back from kvmctl's tagged rules. */
import type { IptablesState } from './iptables-save.js';
import { FORWARD_TAG_KIND, kvmctlTag, rulesTagged, taggedIds } from './rule-owner.js';

export type Protocol = 'tcp' | 'udp';

/** One port or an inclusive range (start <= end). */
export interface PortRange {
  start: number;
  end: number;
}

export function formatPortRange(r: PortRange, sep = '-'): string {
  return r.start === r.end ? String(r.start) : `${r.start}${sep}${r.end}`;
}

export interface PortForward {
  protocol: Protocol;
  /** Ports on the host's own addresses. */
  hostPorts: PortRange;
  toAddress: string;
  /** The ports on the target; the same as hostPorts when a range is forwarded. */
  toPorts: PortRange;
}

/** The id of a forward: protocol and host port(s), unique on a host. */
export function forwardId(protocol: Protocol, hostPorts: PortRange): string {
  return `${protocol}-${formatPortRange(hostPorts)}`;
}

/** PREROUTING and OUTPUT DNAT, FORWARD in and back: how many rules portForwardRulesFor makes. */
export const RULES_PER_FORWARD = 4;

/** "2222" or "8000:8010" (iptables' --dport) -> a range. */
export function parseDport(text: string | undefined): PortRange | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:[:-](\d+))?$/.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]);
  return { start, end: m[2] !== undefined ? Number(m[2]) : start };
}

/** The port forwards kvmctl made, read back from their PREROUTING rules. */
export interface SavedForward extends PortForward {
  id: string;
  /** How many of the forward's rules exist (4 when complete). */
  ruleCount: number;
}

/** "tcp-2222" or "udp-5300-5310" -> protocol and host ports. */
export function parseForwardId(id: string): { protocol: Protocol; hostPorts: PortRange } | undefined {
  const m = /^(tcp|udp)-(\d+)(?:-(\d+))?$/.exec(id);
  if (!m) return undefined;
  const start = Number(m[2]);
  return { protocol: m[1] as Protocol, hostPorts: { start, end: m[3] !== undefined ? Number(m[3]) : start } };
}

export function savedForwards(state: IptablesState): SavedForward[] {
  const out: SavedForward[] = [];
  for (const id of taggedIds(state, FORWARD_TAG_KIND)) {
    const parsed = parseForwardId(id);
    if (!parsed) continue;
    const rules = rulesTagged(state, kvmctlTag(FORWARD_TAG_KIND, id));
    // The target is in the DNAT rules; after an interrupted delete only some rules may be left.
    const dnat = rules.find((r) => r.target === 'DNAT' && r.toDestination !== undefined);
    const to = /^([^:]+)(?::(\d+(?:-\d+)?))?$/.exec(dnat?.toDestination ?? '');
    out.push({
      id,
      ...parsed,
      toAddress: to?.[1] ?? '',
      toPorts: parseDport(to?.[2]) ?? parsed.hostPorts,
      ruleCount: rules.length,
    });
  }
  return out;
}

export function portRangesOverlap(a: PortRange, b: PortRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}
