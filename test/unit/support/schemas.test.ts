import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertDefinition, assertOutput, assertSchema, commandWords, COVERED_NOUNS, outputSchema, parseLines } from '../../support/schemas.js';

describe('output schemas', () => {
  it('reads the command words, skipping options and the values of global ones', () => {
    expect(commandWords(['-c', 'test:///default', 'vm', 'list', '--all', '-H', 'all', '-o', 'json'])).toEqual(['vm', 'list']);
    expect(commandWords(['net', 'forward', 'list', 'default'])).toEqual(['net', 'forward', 'list', 'default']);
  });

  it('finds no schema for a command that has none', () => {
    expect(outputSchema(['no-such-noun', 'verb'])).toBeNull();
  });

  it('checks the shared address object', () => {
    const ok = { address: '192.168.122.10', prefix: 24, mac: '52:54:00:aa:bb:cc', source: 'lease' };
    assertDefinition('address', ok);
    expect(() => assertDefinition('address', { ...ok, mac: '52:54:00:AA:BB:CC' })).toThrow(/mac/);
    expect(() => assertDefinition('address', { address: ok.address, prefix: 24, source: 'lease' })).toThrow(/mac/);
    expect(() => assertDefinition('state', 'UP')).toThrow(/pattern/);
  });
});

describe('output schemas of vm, host and events', () => {
  const row = { name: 'a', state: 'running', vcpus: 1, memoryBytes: 1024, maxMemoryBytes: 1024, autostart: false, addresses: [], diskCount: 0, diskBytes: 0, migrating: false, migratingTo: null };

  it('a key left out, an extra key or a renamed one fails', () => {
    assertOutput(['vm', 'list'], [row]);
    const { migratingTo: _gone, ...short } = row;
    expect(() => assertOutput(['vm', 'list'], [short])).toThrow(/vm-list/);
    expect(() => assertOutput(['vm', 'list'], [{ ...row, ips: [] }])).toThrow(/vm-list/);
    expect(() => assertOutput(['vm', 'start', 'a'], { name: 'a', state: 'Running', changed: true })).toThrow(/vm-start/);
  });

  it('an empty list is valid for every command that prints a list (vm list has two shapes of item, and [] is both)', () => {
    const lists = readdirSync('schemas').filter((f) => {
      const s = JSON.parse(readFileSync(join('schemas', f), 'utf8')) as { type?: string; anyOf?: Array<{ type?: string }>; oneOf?: Array<{ type?: string }> };
      return s.type === 'array' || [...(s.anyOf ?? []), ...(s.oneOf ?? [])].some((b) => b.type === 'array');
    });
    expect(lists).toContain('vm-list.schema.json');
    for (const f of lists) assertSchema(f.replace(/\.schema\.json$/, ''), []);
    assertOutput(['vm', 'list', '--name-only'], ['a', 'b']);
    // One shape per list: rows and names mixed is neither.
    expect(() => assertOutput(['vm', 'list'], [row, 'a'])).toThrow(/vm-list/);
  });

  it('with -H on a read verb: the fan-out envelope, each item checked as a row of the command', () => {
    const hosts = [{ host: 'h1', ok: true, error: null }];
    assertOutput(['-H', 'all', 'vm', 'list'], { items: [{ host: 'h1', ...row }], hosts });
    assertOutput(['vm', 'list', '--name-only', '-H', 'all'], { items: [{ host: 'h1', value: 'a' }], hosts });
    expect(() => assertOutput(['-H', 'all', 'vm', 'list'], { items: [{ host: 'h1', ...row, vcpus: '1' }], hosts })).toThrow(/vm-list/);
    expect(() => assertOutput(['-H', 'all', 'vm', 'list'], { items: [], hosts: [{ host: 'h1', ok: true }] })).toThrow(/fan-out/);
    // vm create -H sends the command to one host: its own object, no envelope.
    expect(() => assertOutput(['vm', 'create', 'a', '-H', 'h1'], { items: [], hosts })).toThrow(/vm-create/);
  });

  it('a stream is checked line by line; a covered noun without a schema fails', () => {
    const line = { occurredAt: '2026-12-01T22:43:25.000Z', type: 'vm', name: 'a', event: 'started', detail: 'booted' };
    expect(parseLines(['events'], `${JSON.stringify(line)}\n${JSON.stringify({ ...line, detail: null })}\n`)).toHaveLength(2);
    expect(() => parseLines(['events'], JSON.stringify({ ...line, time: line.occurredAt }))).toThrow(/events/);
    expect(COVERED_NOUNS.has('vm')).toBe(true);
    expect(() => assertOutput(['vm', 'console', 'a'], {})).toThrow(/no schema for `kvmctl vm console a`/);
  });
});

describe('output schemas of deletes: --if-exists and many names', () => {
  const failed = (name: string) => ({ name, changed: false, error: { code: 'not-found', exit: 3, message: `${name} not found`, hint: null, object: { kind: 'vm', name } } });
  // What unlessAbsent prints for each delete: {changed: false, ...the keys its ifExists names it by}.
  const absent: Array<[string[], Record<string, unknown>]> = [
    [['vm', 'delete'], { changed: false, name: 'a' }],
    [['net', 'delete'], { changed: false, name: 'lab' }],
    [['bridge', 'delete'], { changed: false, name: 'br9' }],
    [['net', 'forward', 'delete'], { changed: false, id: 'tcp-8080' }],
    [['volume', 'delete'], { changed: false, pool: 'p', name: 'x.qcow2' }],
    [['pool', 'delete'], { changed: false, name: 'p' }],
    [['vm', 'snapshot', 'delete'], { changed: false, name: 'a', snapshot: 's1' }],
    [['volume', 'snapshot', 'delete'], { changed: false, volume: 'p/x.qcow2', name: 's1' }],
    [['image', 'remove'], { changed: false, name: 'debian-12' }],
    [['net', 'unreserve'], { changed: false, network: 'default', mac: null, address: '192.168.122.50' }],
  ];

  it('the absent object alone, and in an array beside a deleted one and a failed one', () => {
    const deleted: Record<string, Record<string, unknown>> = {
      'vm-delete': { changed: true, name: 'b', removed: [], kept: [] },
      'net-delete': { name: 'n2', changed: true, vmsStillReferencing: [] },
      'bridge-delete': { name: 'br8', changed: true, ports: [], vms: [], networks: [] },
      'volume-delete': { changed: true, pool: 'p', name: 'y.qcow2', path: '/p/y.qcow2', formerUsers: [] },
      'vm-snapshot-delete': { changed: true, name: 'a', snapshot: 's2' },
    };
    for (const [args, value] of absent) {
      assertOutput(args, value);
      // vm snapshot delete prints the same keys either way.
      if (args[1] !== 'snapshot') expect(() => assertOutput(args, { ...value, changed: true })).toThrow();
      const one = deleted[args.join('-')];
      if (one) assertOutput(args, [one, value, failed('c')]);
    }
    expect(() => assertOutput(['vm', 'delete'], { changed: false, name: 'a', extra: 1 })).toThrow(/vm-delete/);
    expect(() => assertOutput(['net', 'forward', 'delete'], [{ changed: false, id: 'tcp-8080' }])).toThrow(/net-forward-delete/);
  });

  it('the lifecycle verbs of several networks, pools and VMs print an array, failures as {name, changed: false, error}', () => {
    for (const args of [['net', 'start'], ['net', 'stop'], ['pool', 'start'], ['pool', 'stop'], ['vm', 'autostart']]) {
      assertOutput(args, [failed('a'), failed('b')]);
      expect(() => assertOutput(args, [{ ...failed('a'), changed: true }])).toThrow(args.join('-'));
    }
    assertOutput(['vm', 'autostart'], [{ changed: true, name: 'a', autostart: true }, failed('b')]);
  });
});
