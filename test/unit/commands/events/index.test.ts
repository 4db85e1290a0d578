/** kvmctl events: its lines, --type, and its streams over a fake runner (recorded virsh streams). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KvmctlError } from '../../../../src/errors.js';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { StreamEnd, StreamName } from '../../../../src/exec/stream.js';
import { eventCommand } from '../../../../src/libvirt/events.js';
import { eventLine, parseEventTypes, runEvents } from '../../../../src/commands/events/index.js';
import { parseLines } from '../../../support/schemas.js';
import { testContext, URI } from '../../../support/harness.js';

const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures/recorded', dir, file), 'utf8');
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('event lines and --type', () => {
  it('the table line shows control characters of a name as \\xNN', () => {
    expect(eventLine({ time: 't', type: 'vm', name: 'a\x1b[2Jb', event: 'started', detail: 'booted' })).toBe('t  vm    a\\x1b[2Jb  started  booted');
  });

  it('--type: vm, net, pool, comma-separated; anything else is exit 2', () => {
    expect(parseEventTypes(undefined)).toEqual(['vm', 'net', 'pool']);
    expect(parseEventTypes('net,vm,net')).toEqual(['net', 'vm']);
    expect(() => parseEventTypes('vm;reboot')).toThrow(/"vm;reboot" is not one of vm, net, pool/);
    expect(() => parseEventTypes('')).toThrow(/is not one of/);
  });
});

/** A fake whose long-running programs print the given output and end with the given status, or run until stopped. */
class StreamingFake extends FakeRunner {
  readonly streamed: string[] = [];
  constructor(private readonly plays: Record<string, { stdout: string; stderr?: string; exitCode?: number } | 'until-stopped'>) {
    super();
  }
  async stream(cmd: Command, onOutput: (s: StreamName, t: string) => void, signal: AbortSignal): Promise<StreamEnd> {
    const key = cmd.args.slice(2).join(' ');
    this.streamed.push(key);
    const play = this.plays[key];
    if (play === undefined) throw new Error(`unexpected stream: ${key}`);
    if (play === 'until-stopped') {
      await new Promise((r) => (signal.aborted ? r(undefined) : signal.addEventListener('abort', r, { once: true })));
      return { exitCode: null, stopped: true };
    }
    // Chunks cut mid-line, as pipes deliver them.
    for (let i = 0; i < play.stdout.length; i += 7) onOutput('stdout', play.stdout.slice(i, i + 7));
    if (play.stderr) onOutput('stderr', play.stderr);
    return { exitCode: play.exitCode ?? 0, stopped: false };
  }
}

describe('kvmctl events over a fake runner', () => {
  it('runs one virsh event loop per type, argv only, and prints NDJSON lines as they come', async () => {
    const fake = new StreamingFake({
      'event --all --loop --timestamp': { stdout: fixture('events', 'virsh-event-start-destroy.txt') },
      'net-event --event lifecycle --loop --timestamp': 'until-stopped',
    });
    const { ctx, io } = testContext(fake, { output: 'json' });
    await runEvents(ctx, { type: 'vm,net' });
    expect(fake.streamed).toEqual(['event --all --loop --timestamp', 'net-event --event lifecycle --loop --timestamp']);
    expect(eventCommand(URI, 'pool').args).toEqual(['-c', URI, 'pool-event', '--event', 'lifecycle', '--loop', '--timestamp']);
    expect(parseLines(['events'], io.out).map((e) => e.event)).toEqual(['defined', 'resumed', 'started', 'shutdown', 'stopped', 'undefined']);
    expect(fake.calls).toEqual([]);
  });

  it('Ctrl-C stops every stream and ends with no error (exit 0)', async () => {
    const fake = new StreamingFake({ 'event --all --loop --timestamp': 'until-stopped', 'pool-event --event lifecycle --loop --timestamp': 'until-stopped' });
    const abort = new AbortController();
    const { ctx } = testContext(fake, { signal: abort.signal });
    const done = runEvents(ctx, { type: 'vm,pool' });
    setTimeout(() => abort.abort(), 20);
    await expect(done).resolves.toBeUndefined();
  });

  it('the daemon going away ends every stream with exit 1 naming the URI', async () => {
    const fake = new StreamingFake({
      'event --all --loop --timestamp': { stdout: 'events received: 0\n', stderr: fixture('events', 'virsh-event-daemon-gone.stderr'), exitCode: 1 },
      'net-event --event lifecycle --loop --timestamp': 'until-stopped',
    });
    const { ctx } = testContext(fake);
    const err = await runEvents(ctx, { type: 'vm,net' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvmctlError);
    expect((err as KvmctlError).exitCode).toBe(1);
    expect((err as KvmctlError).message).toBe(`the connection to libvirt at ${URI} closed (the daemon went away): no more vm events`);
  });

  it('a daemon that cannot be reached at all is exit 5', async () => {
    const fake = new StreamingFake({ 'event --all --loop --timestamp': { stdout: '', stderr: 'error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/run/libvirt/libvirt-sock\': No such file or directory\n', exitCode: 1 } });
    const { ctx } = testContext(fake);
    await expect(runEvents(ctx, { type: 'vm' })).rejects.toMatchObject({ exitCode: 5 });
  });
});
