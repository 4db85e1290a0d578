/**
 * Parsers and run functions of the commands for a running guest: libvirt's
 * event lines (recorded streams), vm top's rates (a recorded domstats pair),
 * the guest agent's replies and errors (recorded), and vm exec / events over a
 * recording fake runner.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KvmctlError, PassedExitStatus } from '../../src/errors.js';
import type { Command } from '../../src/exec/command.js';
import { FakeRunner } from '../../src/exec/fake.js';
import type { StreamEnd, StreamName } from '../../src/exec/stream.js';
import { eventCommand, isDisconnect, parseEventLine } from '../../src/libvirt/events.js';
import { parseDomstats } from '../../src/libvirt/domstats.js';
import { eventLine, parseEventTypes, runEvents } from '../../src/commands/events/index.js';
import { computeSample } from '../../src/commands/vm/top.js';
import { vmContext, URI } from './vm-harness.js';

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
    const { ctx, io } = vmContext(fake, { output: 'json' });
    await runEvents(ctx, { type: 'vm,net' });
    expect(fake.streamed).toEqual(['event --all --loop --timestamp', 'net-event --event lifecycle --loop --timestamp']);
    expect(eventCommand(URI, 'pool').args).toEqual(['-c', URI, 'pool-event', '--event', 'lifecycle', '--loop', '--timestamp']);
    expect(lines(io.out).map((l) => JSON.parse(l).event)).toEqual(['defined', 'resumed', 'started', 'shutdown', 'stopped', 'undefined']);
    expect(fake.calls).toEqual([]);
  });

  it('Ctrl-C stops every stream and ends with no error (exit 0)', async () => {
    const fake = new StreamingFake({ 'event --all --loop --timestamp': 'until-stopped', 'pool-event --event lifecycle --loop --timestamp': 'until-stopped' });
    const abort = new AbortController();
    const { ctx } = vmContext(fake, { signal: abort.signal });
    const done = runEvents(ctx, { type: 'vm,pool' });
    setTimeout(() => abort.abort(), 20);
    await expect(done).resolves.toBeUndefined();
  });

  it('the daemon going away ends every stream with exit 1 naming the URI', async () => {
    const fake = new StreamingFake({
      'event --all --loop --timestamp': { stdout: 'events received: 0\n', stderr: fixture('events', 'virsh-event-daemon-gone.stderr'), exitCode: 1 },
      'net-event --event lifecycle --loop --timestamp': 'until-stopped',
    });
    const { ctx } = vmContext(fake);
    const err = await runEvents(ctx, { type: 'vm,net' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvmctlError);
    expect((err as KvmctlError).exitCode).toBe(1);
    expect((err as KvmctlError).message).toBe(`the connection to libvirt at ${URI} closed (the daemon went away): no more vm events`);
  });

  it('a daemon that cannot be reached at all is exit 5', async () => {
    const fake = new StreamingFake({ 'event --all --loop --timestamp': { stdout: '', stderr: 'error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/run/libvirt/libvirt-sock\': No such file or directory\n', exitCode: 1 } });
    const { ctx } = vmContext(fake);
    await expect(runEvents(ctx, { type: 'vm' })).rejects.toMatchObject({ exitCode: 5 });
  });
});

describe('vm top rates (a recorded domstats pair)', () => {
  const first = { atMs: 10_000, stats: parseDomstats(fixture('top', 'virsh-domstats-top-1.txt')) };
  const second = { atMs: 12_000, stats: parseDomstats(fixture('top', 'virsh-domstats-top-2.txt')) };
  const sample = computeSample(first, second, new Date('2026-12-01T22:14:40Z'));

  it('CPU % of one host CPU, memory (rss), and per-second disk and network rates over the 2 s between readings', () => {
    expect(sample.time).toBe('2026-12-01T22:14:40.000Z');
    expect(sample.intervalSeconds).toBe(2);
    // busiest first
    expect(sample.vms.map((v) => v.name)).toEqual(['tiny19', 'g19']);
    const [tiny, g19] = sample.vms;
    // (1540000000 - 1020000000) ns / 2 s = 26 % of a CPU; (106890000000 - 106870000000) / 2 s = 1 %
    expect(tiny).toMatchObject({ cpuPercent: 26, memoryBytes: 156064 * 1024, netRxBytesPerSecond: 0, cpuTimeNs: 1540000000 });
    expect(g19).toMatchObject({ cpuPercent: 1, memoryBytes: 1399452 * 1024, netRxBytes: 28888, netRxBytesPerSecond: 26, netTxBytesPerSecond: 0, diskReadBytesPerSecond: 0, diskReadBytes: 126363136 + 333824 });
  });

  it('a VM missing from the first reading, or whose counters went down (restarted), has no rates', () => {
    const only = computeSample({ atMs: 0, stats: first.stats.filter((d) => d.name !== 'tiny19') }, { ...second, atMs: 2000 }, new Date(0));
    expect(only.vms.find((v) => v.name === 'tiny19')).toMatchObject({ cpuPercent: null, netRxBytesPerSecond: null });
    const restarted = computeSample({ atMs: 0, stats: second.stats }, { atMs: 2000, stats: first.stats }, new Date(0));
    expect(restarted.vms.find((v) => v.name === 'tiny19')?.cpuPercent).toBeNull();
  });
});

describe('vm exec through the guest agent (recorded replies)', () => {
  const agent = (file: string) => fixture('agent', file);
  const running = { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-running.txt', 'utf8') };
  const domstate = ['virsh', '-c', URI, 'domstate', '--domain', 'web1', '--reason'];
  const agentArgv = (request: object, timeout = 10) => ['virsh', '-c', URI, 'qemu-agent-command', '--domain', 'web1', '--timeout', String(timeout), '--cmd', JSON.stringify(request)];
  const command = ['sh', '-c', 'sleep 1; printf "a\\000b\\377\\r\\n"; printf "err\\001\\n" >&2; exit 3'];
  const exec = agentArgv({ execute: 'guest-exec', arguments: { path: 'sh', arg: command.slice(1), 'capture-output': true } });
  const pid = Number(JSON.parse(agent('guest-exec.json')).return.pid);
  const status = agentArgv({ execute: 'guest-exec-status', arguments: { pid } });

  it('guest-exec with the argv as JSON, guest-exec-status until it exited; the bytes as they were; its exit status', async () => {
    const fake = new FakeRunner()
      .stub(domstate, running)
      .stub(exec, { stdout: agent('guest-exec.json') })
      .stub(status, { stdout: agent('guest-exec-status-running.json') })
      .stub(status, { stdout: agent('guest-exec-status-exited.json') });
    const { ctx, io } = vmContext(fake);
    const { runVmExec } = await import('../../src/commands/vm/exec.js');
    const err = await runVmExec(ctx, 'web1', command, {}).catch((e: unknown) => e);
    fake.verify();
    expect(err).toBeInstanceOf(PassedExitStatus);
    expect((err as PassedExitStatus).exitCode).toBe(3);
    expect(io.outBytes).toEqual(Buffer.from([0x61, 0x00, 0x62, 0xff, 0x0d, 0x0a]));
    expect(io.err).toBe('err\x01\n');
    expect(fake.calls.find((c) => c.args.includes('qemu-agent-command'))?.mutates).toBe(true);
  });

  it('Ctrl-C while it runs is exit 130 naming the pid it goes on as in the guest', async () => {
    const fake = new FakeRunner()
      .stub(domstate, running)
      .stub(exec, { stdout: agent('guest-exec.json') })
      .stub(status, { stdout: agent('guest-exec-status-running.json') }, Infinity);
    const abort = new AbortController();
    const { ctx } = vmContext(fake, { signal: abort.signal });
    const { runVmExec } = await import('../../src/commands/vm/exec.js');
    setTimeout(() => abort.abort(), 120);
    await expect(runVmExec(ctx, 'web1', command, {})).rejects.toMatchObject({ exitCode: 130, message: `vm exec web1: interrupted; it still runs in the guest as pid ${pid}`, hint: `end it with: kvmctl vm exec web1 -- kill ${pid}` });
  });

  it('no channel (recorded) is exit 5 with the channel to add; an agent that is not connected is exit 5 with how to start it', async () => {
    const { runVmExec } = await import('../../src/commands/vm/exec.js');
    for (const [file, message, hint] of [
      ['err-guest-ping-no-channel.stderr', 'VM "web1" has no guest agent channel (argument unsupported: QEMU guest agent is not configured)', "add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"],
      ['err-guest-ping-not-connected.stderr', 'the guest agent of VM "web1" is not answering (Guest agent is not responding: QEMU guest agent is not connected)', 'install and start it in the guest'],
    ] as const) {
      const fake = new FakeRunner().stub(domstate, running).stub(agentArgv({ execute: 'guest-exec', arguments: { path: 'true', arg: [], 'capture-output': true } }), { stderr: agent(file), exitCode: 1 });
      const { ctx } = vmContext(fake);
      const err = (await runVmExec(ctx, 'web1', ['true'], {}).catch((e: unknown) => e)) as KvmctlError;
      expect(err.exitCode).toBe(5);
      expect(err.message).toBe(message);
      expect(err.hint).toContain(hint);
      fake.verify();
    }
  });

  it('a VM that is not running is exit 5 before any agent call; --dry-run prints guest-exec and runs nothing in the guest', async () => {
    const { runVmExec } = await import('../../src/commands/vm/exec.js');
    const off = new FakeRunner().stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-destroy.txt', 'utf8') });
    const r = vmContext(off);
    await expect(runVmExec(r.ctx, 'web1', ['true'], {})).rejects.toMatchObject({ exitCode: 5, message: 'VM "web1" is shutoff (destroyed): vm exec needs it running' });
    off.verify();
    const dry = new FakeRunner().stub(domstate, running);
    const d = vmContext(dry, { dryRun: true });
    await runVmExec(d.ctx, 'web1', ['true'], {});
    expect(d.io.err).toContain('[dry-run] would run: virsh -c qemu:///system qemu-agent-command --domain web1 --timeout 10 --cmd');
    expect(dry.calls).toHaveLength(1);
  });
});

describe('vm ssh (fake runner; ssh argv only)', () => {
  const vmFixture = (file: string) => readFileSync(join('test/fixtures/recorded/vm', file), 'utf8');
  // What vm create --ssh-key K.pub --ssh-user debian records now, in the recorded definition of fxvm-web.
  const withLogin = vmFixture('virsh-dumpxml-web-inactive.xml').replace(
    '<kvmctl:seed pool="fxvm-pool" volume="fxvm-web-seed.iso"/>',
    '<kvmctl:seed pool="fxvm-pool" volume="fxvm-web-seed.iso"/><kvmctl:ssh key="/root/.ssh/id_ed25519" user="debian"/>',
  );

  class InteractiveFake extends FakeRunner {
    readonly interactive: Command[] = [];
    constructor(private readonly status: number) {
      super();
    }
    async runInteractive(cmd: Command): Promise<number> {
      this.interactive.push(cmd);
      return this.status;
    }
  }

  const reads = <R extends FakeRunner>(fake: R, xml = withLogin): R =>
    fake
      .stub(['virsh', '-c', URI, 'domstate', '--domain', 'fxvm-web', '--reason'], { stdout: vmFixture('virsh-domstate-web.txt') })
      .stub(['virsh', '-c', URI, 'dumpxml', '--domain', 'fxvm-web', '--inactive'], { stdout: xml })
      .stub(['virsh', '-c', URI, 'domifaddr', '--domain', 'fxvm-web', '--source', 'lease'], { stdout: vmFixture('virsh-domifaddr-lease.txt') });

  it('the recorded key and user, kvmctl\'s known_hosts under the uuid, -- before the address, the command as argv; ssh\'s status passed through', async () => {
    const { runVmSsh } = await import('../../src/commands/vm/ssh.js');
    const fake = reads(new InteractiveFake(255));
    const { ctx } = vmContext(fake, { files: { '/root/.ssh/id_ed25519': 'private' } });
    const err = await runVmSsh(ctx, 'fxvm-web', ['echo', '$(id)', 'a;b'], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PassedExitStatus);
    expect((err as PassedExitStatus).exitCode).toBe(255);
    fake.verify();
    expect(fake.interactive.map((c) => [c.program, ...c.args])).toEqual([
      ['ssh', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${ctx.stateDir}/ssh_known_hosts`, '-o', 'HostKeyAlias=kvmctl-vm-c8f98b6e-f22d-45c8-8360-6a6c3b6c2207', '-i', '/root/.ssh/id_ed25519', '-l', 'debian', '--', '192.168.122.17', 'echo', '$(id)', 'a;b'],
    ]);
  });

  it('--user, -i and --port win; a recorded key that is gone is left to ssh with a warning; exit 0 is no error', async () => {
    const { runVmSsh } = await import('../../src/commands/vm/ssh.js');
    const fake = reads(new InteractiveFake(0));
    const { ctx, io } = vmContext(fake);
    await runVmSsh(ctx, 'fxvm-web', [], { user: 'admin', identity: '/k/other', port: '2222' });
    expect(fake.interactive[0]?.args.slice(6)).toEqual(['-i', '/k/other', '-l', 'admin', '-p', '2222', '--', '192.168.122.17']);
    const again = reads(new InteractiveFake(0));
    const second = vmContext(again);
    await runVmSsh(second.ctx, 'fxvm-web', ['true'], {});
    expect(again.interactive[0]?.args).not.toContain('-i');
    expect(second.io.err).toContain('the key recorded for VM fxvm-web (/root/.ssh/id_ed25519) is not there');
    expect(io.err).toBe('');
  });

  it('a user name that could be an option, or user@host, is exit 2 before anything runs', async () => {
    const { runVmSsh } = await import('../../src/commands/vm/ssh.js');
    for (const user of ['-oProxyCommand=x', 'root@evil', 'a b', '', '$(id)']) {
      const fake = new InteractiveFake(0);
      const { ctx } = vmContext(fake);
      await expect(runVmSsh(ctx, 'fxvm-web', [], { user })).rejects.toMatchObject({ exitCode: 2 });
      expect(fake.calls).toEqual([]);
    }
  });
});

describe('vm create records how to log in', () => {
  it('--ssh-user without --ssh-key, or a bad one, is exit 2', async () => {
    const { parseCreateFlags } = await import('../../src/commands/vm/create-args.js');
    expect(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshUser: 'debian' })).toThrow(/--ssh-user names the user --ssh-key is for/);
    expect(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshKey: '/k.pub', sshUser: '-x' })).toThrow(/--ssh-user "-x": not a user name/);
    expect(parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshKey: '/k.pub', sshUser: 'debian' }).cloudInit).toMatchObject({ sshKeyFile: '/k.pub', sshUser: 'debian' });
  });

  it('the ssh login round-trips through kvmctl\'s <metadata> (what vm ssh reads back)', async () => {
    const { buildDomainXml } = await import('../../src/libvirt/domain-builder.js');
    const { domainFromNode } = await import('../../src/libvirt/domain-xml.js');
    const { decodeXml, encodeXml } = await import('../../src/libvirt/xml-codec.js');
    const spec = {
      name: 'web1', uuid: '6f1c3c0e-0000-4000-8000-000000000001', memoryBytes: 1024 ** 3, vcpus: 1, arch: 'x86_64', firmware: 'bios' as const,
      bootDevices: ['hd'], disks: [], interfaces: [], graphics: 'none' as const, serialLog: '/var/log/web1.serial.log', type: 'qemu' as const,
      metadata: { seed: { pool: 'p', volume: 'web1-seed.iso' }, ssh: { key: '/root/.ssh/id "x"&<y>', user: 'debian' } },
    };
    const xml = encodeXml(buildDomainXml(spec as never));
    expect(domainFromNode(await decodeXml(xml)).kvmctl).toEqual(spec.metadata);
  });
});

describe('vm log -f (a real file, a fake virsh)', () => {
  it('the last N lines, then what is appended, CRLF to LF even split between reads; ends when the VM is shut off', async () => {
    const { mkdtempSync, writeFileSync, appendFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { followLog } = await import('../../src/commands/vm/log-follow.js');
    const file = join(mkdtempSync(join(tmpdir(), 'kvmctl-follow-')), 'web1.serial.log');
    writeFileSync(file, 'old1\r\nold2\r\nold3\r\npartial\r');
    const domstate = ['virsh', '-c', URI, 'domstate', '--domain', 'web1', '--reason'];
    const fake = new FakeRunner()
      .stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-running.txt', 'utf8') })
      .stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-destroy.txt', 'utf8') });
    const { ctx, io } = vmContext(fake);
    setTimeout(() => appendFileSync(file, '\nnext é\r\r\n'), 100);
    await followLog(ctx, 'web1', file, 2);
    fake.verify();
    expect(io.out).toBe('old2\nold3\npartial\nnext é\n');
    expect(io.err).toContain('vm web1 is shutoff (destroyed): end of its serial log');
  });
});

describe('vm top over a fake runner', () => {
  it('one domstats call per reading however many VMs (--count 2: three readings), NDJSON samples', async () => {
    const { runVmTop } = await import('../../src/commands/vm/top.js');
    const argv = ['virsh', '-c', URI, 'domstats', '--raw', '--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block', '--list-active'];
    const readings = [fixture('top', 'virsh-domstats-top-1.txt'), fixture('top', 'virsh-domstats-top-2.txt'), fixture('top', 'virsh-domstats-top-2.txt')];
    const fake = new FakeRunner().stub(argv, () => ({ stdout: readings.shift() ?? '' }), 3);
    const { ctx, io } = vmContext(fake, { output: 'json' });
    await runVmTop(ctx, { interval: '0.2', count: '2' });
    fake.verify();
    expect(fake.calls).toHaveLength(3);
    const samples = lines(io.out).map((l) => JSON.parse(l));
    expect(samples).toHaveLength(2);
    expect(samples[0].vms.map((v: { name: string }) => v.name)).toEqual(['tiny19', 'g19']);
    // The third reading repeats the second: nothing moved.
    expect(samples[1].vms.every((v: { cpuPercent: number }) => v.cpuPercent === 0)).toBe(true);
  });
});
