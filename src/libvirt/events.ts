/**
 * libvirt's event streams as virsh prints them: `virsh event --all` (every
 * domain event), `net-event` and `pool-event` (lifecycle), each with
 * `--loop --timestamp`, one line per event:
 *   2026-12-01 22:14:37.875+0000: event 'lifecycle' for domain 'web1': Started Booted
 *   2026-12-01 22:13:38.594+0000: event 'lifecycle' for network lab: Started
 */
import type { Command } from '../exec/command.js';
import { asCommand, read, type VirshCall } from './virsh-client.js';

export type EventType = 'vm' | 'net' | 'pool';
export const EVENT_TYPES: readonly EventType[] = ['vm', 'net', 'pool'];

/** The stream of one type's events; it runs until stopped. */
export function eventCall(type: EventType): VirshCall {
  if (type === 'vm') return read(['event', '--all', '--loop', '--timestamp']);
  return read([type === 'net' ? 'net-event' : 'pool-event', '--event', 'lifecycle', '--loop', '--timestamp']);
}

export function eventCommand(uri: string, type: EventType): Command {
  return asCommand(uri, eventCall(type));
}

export interface LibvirtEvent {
  /** ISO 8601, from virsh's timestamp. */
  time: string;
  type: EventType;
  name: string;
  /** lifecycle events: what happened, lower case (started, stopped, defined, …); others: the event's own name (reboot, agent-lifecycle, …). */
  event: string;
  /** lifecycle: libvirt's reason (booted, destroyed, crashed, …); others: the rest of virsh's line. */
  detail: string;
}

const OBJECT: Record<string, EventType> = { domain: 'vm', network: 'net', 'storage pool': 'pool' };
// Domain names are quoted, network and pool names are not. A lifecycle event's details are plain words, so its
// name ends at the last "': " (or ": "); other events' details may hold those, so their name ends at the first.
const LINE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d{4}): event '([^']+)' for (domain|network|storage pool) (.*)$/;

export function parseEventLine(line: string): LibvirtEvent | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const [, date, clock, zone, kind = '', object = '', rest = ''] = m;
  const quoted = object === 'domain';
  const mark = quoted ? "': " : ': ';
  const sep = kind === 'lifecycle' ? rest.lastIndexOf(mark) : rest.indexOf(mark);
  if (sep < 0 || (quoted && !rest.startsWith("'"))) return undefined;
  const name = quoted ? rest.slice(1, sep) : rest.slice(0, sep);
  const details = rest.slice(sep + (quoted ? 3 : 2));
  const time = new Date(`${date}T${clock}${zone?.slice(0, 3)}:${zone?.slice(3)}`).toISOString();
  const type = OBJECT[object] ?? 'vm';
  if (kind === 'lifecycle') {
    const [what = '', ...why] = details.split(' ');
    return { time, type, name, event: what.toLowerCase(), detail: why.join(' ').toLowerCase() };
  }
  return { time, type, name, event: kind, detail: details };
}

/** virsh's words when the connection dropped under a running stream. */
export function isDisconnect(stderr: string): boolean {
  return /Disconnected from .* due to|client socket is closed|End of file while reading data/i.test(stderr);
}
