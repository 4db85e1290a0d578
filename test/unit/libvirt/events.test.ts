/** libvirt's event lines as virsh prints them (recorded streams). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDisconnect, parseEventLine } from '../../../src/libvirt/events.js';

const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures/recorded', dir, file), 'utf8');
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('libvirt event lines (recorded virsh streams)', () => {
  it('a VM started then destroyed: every lifecycle step, in order, with ISO times', () => {
    const events = lines(fixture('events', 'virsh-event-start-destroy.txt')).map(parseEventLine);
    expect(events).toEqual([
      { time: '2026-12-01T22:14:35.867Z', type: 'vm', name: 'tiny19', event: 'defined', detail: 'added' },
      { time: '2026-12-01T22:14:37.866Z', type: 'vm', name: 'tiny19', event: 'resumed', detail: 'unpaused' },
      { time: '2026-12-01T22:14:37.875Z', type: 'vm', name: 'tiny19', event: 'started', detail: 'booted' },
      { time: '2026-12-01T22:14:45.341Z', type: 'vm', name: 'tiny19', event: 'shutdown', detail: 'finished after host request' },
      { time: '2026-12-01T22:14:45.388Z', type: 'vm', name: 'tiny19', event: 'stopped', detail: 'destroyed' },
      { time: '2026-12-01T22:14:45.529Z', type: 'vm', name: 'tiny19', event: 'undefined', detail: 'removed' },
    ]);
  });

  it('networks and pools (names unquoted), suspend and resume', () => {
    const parsed = (file: string) => lines(fixture('events', file)).map(parseEventLine).filter((e) => e !== undefined).map((e) => `${e.type} ${e.name} ${e.event}`);
    expect(parsed('virsh-net-event-lifecycle.txt')).toEqual(['net evnet defined', 'net evnet started', 'net evnet stopped', 'net evnet undefined']);
    expect(parsed('virsh-pool-event-lifecycle.txt')).toEqual(['pool scratch defined', 'pool scratch started', 'pool scratch stopped', 'pool scratch undefined']);
    expect(lines(fixture('events', 'virsh-event-all-loop-timestamp.txt')).map((l) => parseEventLine(l)?.event).filter(Boolean)).toEqual(['suspended', 'resumed']);
  });

  it('names with quotes and ": " stay whole; other domain events keep their name and text; other lines are no event', () => {
    expect(parseEventLine("2026-12-01 22:14:37.875+0000: event 'lifecycle' for domain 'a': b's': Started Booted")).toMatchObject({ name: "a': b's", event: 'started' });
    expect(parseEventLine("2026-12-01 22:14:37.875+0100: event 'reboot' for domain 'web1': ")).toEqual({ time: '2026-12-01T21:14:37.875Z', type: 'vm', name: 'web1', event: 'reboot', detail: '' });
    expect(parseEventLine('events received: 0')).toBeUndefined();
    expect(parseEventLine('')).toBeUndefined();
  });

  it('the daemon going away is told apart (recorded stderr)', () => {
    expect(isDisconnect(fixture('events', 'virsh-event-daemon-gone.stderr'))).toBe(true);
    expect(isDisconnect('error: failed to connect to the hypervisor')).toBe(false);
  });
});
