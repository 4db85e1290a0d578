/**
 * `kvmctl events [--type vm,net,pool]`: libvirt's events as they happen, one
 * line each (NDJSON with -o json), from one `virsh … event --loop` per type.
 * Ctrl-C (or SIGTERM) is its normal end: exit 0. When the daemon goes away the
 * stream ends with exit 1 naming the URI.
 */
import type { Context } from '../../context.js';
import { KvmctlError, UsageError } from '../../errors.js';
import { lineSplitter, runStreaming, type StreamEnd } from '../../exec/stream.js';
import { eventCall, EVENT_TYPES, isDisconnect, parseEventLine, type EventType, type LibvirtEvent } from '../../libvirt/events.js';
import { value, verb, type OptionsOf } from '../../verb.js';

export function parseEventTypes(text: string | undefined): EventType[] {
  if (text === undefined) return [...EVENT_TYPES];
  const types = text.split(',').map((t) => t.trim());
  const bad = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (bad !== undefined) throw new UsageError(`--type ${JSON.stringify(text)}: ${JSON.stringify(bad)} is not one of ${EVENT_TYPES.join(', ')}`, 'e.g. --type vm,net');
  return [...new Set(types as EventType[])];
}

/** Control characters (a name may hold them) shown as \xNN, so a line cannot rewrite the terminal. */
const visible = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export function eventLine(e: LibvirtEvent): string {
  return [e.time, e.type.padEnd(4), visible(e.name), e.event, visible(e.detail)].filter((w) => w !== '').join('  ');
}

/** What -o json prints for an event (schemas/events.schema.json, one a line). */
export function eventObject(e: LibvirtEvent): { occurredAt: string; type: EventType; name: string; event: string; detail: string | null } {
  return { occurredAt: e.time, type: e.type, name: e.name, event: e.event, detail: e.detail === '' ? null : e.detail };
}

const options = { type: value('--type <types>', 'comma-separated: vm, net, pool (default: all three)') };
export type EventsOptions = OptionsOf<typeof options>;

export async function runEvents(ctx: Context, opts: EventsOptions): Promise<void> {
  const types = parseEventTypes(opts.type);
  // Every stream ends when the first one does: Ctrl-C, or a stream that failed.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const print = (e: LibvirtEvent) => ctx.io.stdout((ctx.out.json ? JSON.stringify(eventObject(e)) : eventLine(e)) + '\n');
  ctx.out.info(`events of ${types.join(', ')} at ${ctx.uri}; Ctrl-C ends`);
  const failures: KvmctlError[] = [];
  try {
    await Promise.all(
      types.map(async (type) => {
        const call = eventCall(type);
        let stderr = '';
        const lines = lineSplitter((l) => {
          const e = parseEventLine(l);
          if (e) print(e);
        });
        const end: StreamEnd = await runStreaming(ctx.runner, ctx.virsh.command(call), (stream, text) => (stream === 'stdout' ? lines.push(text) : (stderr += text)), stop.signal);
        lines.flush();
        // virsh ends a --loop with status 0 on SIGINT (Ctrl-C reaches the whole process group).
        if (!end.stopped && end.exitCode !== 0) {
          failures.push(
            isDisconnect(stderr)
              ? new KvmctlError(`the connection to libvirt at ${ctx.uri} closed (the daemon went away): no more ${type} events`, 'start the daemon again, then run kvmctl events again')
              : ctx.virsh.errorOf(call, stderr, end.exitCode ?? 1),
          );
        }
        stop.abort();
      }),
    );
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (failures[0] !== undefined) throw failures[0];
}

export const eventsCommand = verb('events', 'print libvirt events as they happen (VMs started, stopped, crashed, defined; networks and pools started, stopped, defined), one a line with its time', runEvents, {
  options,
  examples: ['kvmctl events', 'kvmctl events --type vm', 'kvmctl -o json events | jq -r \'select(.event == "crashed") | .name\''],
  notes:
    '\nWith -o json, one JSON object a line (NDJSON): occurredAt (ISO 8601), type, name, event, detail (null when libvirt gives none).\n' +
    'Ends with exit 0 on Ctrl-C or SIGTERM; exit 1 when the libvirt daemon goes away; exit 5 when it cannot be reached at all.\n',
});
