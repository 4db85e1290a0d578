/**
 * `kvmctl events` and `kvmctl vm top` against the lab host with its tiny guest:
 * a VM started and stopped shows its events in order; two samples of top carry
 * rates computed from two domstats readings; Ctrl-C (SIGINT) ends both with
 * exit 0 and leaves no virsh behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, kvmctl, lab, virsh, type RunResult } from './lab.js';
import { newStateDir, removeStateDirs } from './reliability/harness.js';
import { parseLines } from '../support/schemas.js';

const VM = 'evt19-tiny';
const PROBE_POOL = 'evt19-probe';
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-events-'));
let stateDir = '';

function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The CLI in the background (node itself, no shell, so a signal reaches it), with its output readable while it runs. */
function background(args: string[]) {
  const child = spawn('ip', ['netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, ...args], {
    env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, ...out })));
  return {
    out,
    done,
    /** Polls until the condition holds; the test fails on an early end or the time running out. */
    async until(what: string, cond: () => boolean, timeoutMs = 120_000, between?: () => void) {
      const deadline = Date.now() + timeoutMs;
      let ended = false;
      void done.then(() => (ended = true));
      while (!cond()) {
        if (ended) throw new Error(`kvmctl ${args.join(' ')} ended before ${what}:\n${out.stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\nstdout: ${out.stdout}\nstderr: ${out.stderr}`);
        between?.();
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    kill: (sig: NodeJS.Signals) => process.kill(child.pid ?? -1, sig),
  };
}

/** virsh processes of this lab still running an event loop (read from ps; none may outlive kvmctl). */
function eventLoops(): string[] {
  return spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(lab.uri) && /\b(event|net-event|pool-event) /.test(l));
}

function defineTiny(): void {
  const xml = `<domain type='qemu'><name>${VM}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features><devices><serial type='pty'/><console type='pty'/><interface type='network'><source network='default'/><model type='virtio'/></interface></devices></domain>`;
  const file = join(work, 'tiny.xml');
  writeFileSync(file, xml);
  must(virsh('define', '--file', file), `define ${VM}`);
}

function cleanup(): void {
  virsh('destroy', '--domain', VM);
  virsh('undefine', '--domain', VM);
  virsh('pool-destroy', '--pool', PROBE_POOL);
  virsh('pool-undefine', '--pool', PROBE_POOL);
}

beforeAll(() => {
  stateDir = newStateDir();
  cleanup();
  virsh('net-start', 'default'); // fails harmlessly when it is already active
  expect(virsh('net-info', 'default').stdout).toMatch(/Active:\s+yes/);
  defineTiny();
});

afterAll(() => {
  cleanup();
  rmSync(work, { recursive: true, force: true });
  removeStateDirs();
});

const events = (stdout: string) => parseLines<{ occurredAt: string; type: string; name: string; event: string; detail: string | null }>(['events'], stdout);

describe('kvmctl events', () => {
  it('a VM started and stopped shows started then stopped, as NDJSON with timestamps; Ctrl-C ends it with exit 0', async () => {
    const ev = background(['-o', 'json', 'events']);
    // The stream is listening once a change made now shows up: a pool defined and removed again until its event arrives.
    const probeDir = join(lab.dir, 'pools', PROBE_POOL);
    mkdirSync(probeDir, { recursive: true });
    await ev.until(
      'the probe pool event',
      () => events(ev.out.stdout).some((e) => e.type === 'pool' && e.name === PROBE_POOL && e.event === 'defined'),
      60_000,
      () => {
        virsh('pool-define-as', PROBE_POOL, 'dir', '--target', probeDir);
        virsh('pool-undefine', PROBE_POOL);
      },
    );
    const t0 = Date.now();
    must(kvmctl(['vm', 'start', VM], { env: { KVMCTL_STATE_DIR: stateDir } }), 'vm start');
    must(kvmctl(['vm', 'destroy', VM], { env: { KVMCTL_STATE_DIR: stateDir } }), 'vm destroy');
    await ev.until('the stopped event', () => events(ev.out.stdout).some((e) => e.name === VM && e.event === 'stopped'));
    ev.kill('SIGINT');
    const r = await ev.done;
    expect(r.code).toBe(0);
    const mine = events(r.stdout).filter((e) => e.type === 'vm' && e.name === VM);
    expect(mine.map((e) => `${e.event} ${e.detail}`).filter((s) => /^(started|stopped) /.test(s))).toEqual(['started booted', 'stopped destroyed']);
    for (const e of mine) {
      expect(e.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(e.occurredAt) - t0)).toBeLessThan(120_000);
    }
    const pool = events(r.stdout).filter((e) => e.type === 'pool' && e.name === PROBE_POOL);
    // The stream may join between a probe's define and undefine: its first event can be either.
    expect(pool.map((e) => e.event)).toContain('defined');
    expect(new Set(pool.map((e) => e.event))).toEqual(new Set(['defined', 'undefined']));
    rmSync(probeDir, { recursive: true, force: true });
    expect(eventLoops()).toEqual([]);
  }, 300_000);

  it('the table form: one line per event; --type vm leaves out pool events; SIGTERM ends it with exit 0 too', async () => {
    const ev = background(['events', '--type', 'vm']);
    await ev.until('the banner', () => /events of vm at /.test(ev.out.stderr), 30_000);
    const probeDir = join(lab.dir, 'pools', PROBE_POOL);
    mkdirSync(probeDir, { recursive: true });
    // Domain events only: define/undefine cycles of the VM itself until one shows up.
    const xml = must(virsh('dumpxml', '--domain', VM, '--inactive'), 'dumpxml');
    const file = join(work, 'again.xml');
    writeFileSync(file, xml);
    await ev.until('a vm defined line', () => new RegExp(`  vm    ${VM}  defined  updated`).test(ev.out.stdout), 60_000, () => {
      virsh('pool-define-as', PROBE_POOL, 'dir', '--target', probeDir);
      virsh('pool-undefine', PROBE_POOL);
      virsh('define', '--file', file);
    });
    ev.kill('SIGTERM');
    const r = await ev.done;
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(PROBE_POOL);
    for (const line of r.stdout.split('\n').filter(Boolean)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z  vm    \S+  \S+/);
    rmSync(probeDir, { recursive: true, force: true });
    expect(eventLoops()).toEqual([]);
  }, 300_000);

  it('a bad --type is exit 2 and starts no stream', () => {
    const r = kvmctl(['events', '--type', 'vm,disk'], { env: { KVMCTL_STATE_DIR: stateDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--type "vm,disk": "disk" is not one of vm, net, pool');
    expect(r.stdout).toBe('');
  });
});

describe('kvmctl vm top', () => {
  beforeAll(() => {
    must(virsh('start', '--domain', VM), 'start');
  });

  it('two JSON samples: each rate is the difference of two domstats readings over the interval', () => {
    const r = kvmctl(['-o', 'json', 'vm', 'top', '--interval', '1', '--count', '3'], { env: { KVMCTL_STATE_DIR: stateDir } });
    expect(r.code, r.stderr).toBe(0);
    const samples = parseLines(['vm', 'top'], r.stdout);
    expect(samples).toHaveLength(3);
    const running = virsh('list', '--state-running', '--name').stdout.split('\n').filter(Boolean).sort();
    for (const s of samples) expect(s.vms.map((v: { name: string }) => v.name).sort()).toEqual(running);
    // Sample n+1's first reading is sample n's second one: its rates follow from the two samples' counters.
    const [a, b] = [samples[1].vms.find((v: any) => v.name === VM), samples[2].vms.find((v: any) => v.name === VM)];
    const dt = samples[2].intervalSeconds;
    expect(dt).toBeGreaterThanOrEqual(1);
    expect(b.cpuTimeSeconds).toBeGreaterThan(a.cpuTimeSeconds);
    expect(b.cpuPercent).toBeCloseTo(((b.cpuTimeSeconds - a.cpuTimeSeconds) / dt) * 100, 0);
    for (const [rate, counter] of [
      ['netRxBytesPerSecond', 'netRxBytes'],
      ['netTxBytesPerSecond', 'netTxBytes'],
      ['diskReadBytesPerSecond', 'diskReadBytes'],
      ['diskWriteBytesPerSecond', 'diskWriteBytes'],
    ] as const) {
      expect(b[rate]).toBeCloseTo((b[counter] - a[counter]) / dt, 0);
    }
    expect(b.vcpus).toBe(1);
    expect(b.memoryBytes).toBeGreaterThan(0);
  });

  it('--once: one table (the header, this VM with a CPU %); Ctrl-C ends a running top with exit 0', async () => {
    const once = kvmctl(['vm', 'top', '--once', '--interval', '1'], { env: { KVMCTL_STATE_DIR: stateDir } });
    expect(once.code, once.stderr).toBe(0);
    const lines = once.stdout.split('\n');
    expect(lines[0]).toMatch(/^\S+Z  \d+ running VMs?, rates over 1\.\d+ s$/);
    expect(lines[1]).toMatch(/^NAME\s+CPU%\s+VCPUS\s+MEMORY\s+DISK READ\s+DISK WRITE\s+NET RX\s+NET TX$/);
    expect(lines.find((l) => l.startsWith(`${VM} `))).toMatch(new RegExp(`^${VM}\\s+\\d+\\.\\d\\s+1\\s+\\d`));
    const top = background(['vm', 'top', '--interval', '1']);
    await top.until('a first table', () => /^NAME /m.test(top.out.stdout), 60_000);
    top.kill('SIGINT');
    const r = await top.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  }, 120_000);

  it('on a terminal (script(1) gives it a pty): redrawn in place, q quits with exit 0', async () => {
    const shellWord = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    const argv = ['ip', 'netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, 'vm', 'top', '--interval', '1'].map(shellWord).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', argv, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', KVMCTL_STATE_DIR: stateDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const deadline = Date.now() + 60_000;
    // Two redraws, then q.
    while ((out.match(/\x1b\[H\x1b\[2J/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(out).toMatch(/\(q quits\)/);
    child.stdin.write('q');
    expect(await code).toBe(0);
    expect(out).toMatch(new RegExp(`${VM}\\s+\\d+\\.\\d`));
  }, 120_000);

  it('bad values are exit 2 before any reading', () => {
    for (const [args, msg] of [
      [['--interval', '0'], '--interval "0": expected seconds between 0.2 and 3600'],
      [['--interval', '1;reboot'], '--interval "1;reboot"'],
      [['--count', '0'], '--count "0": expected a whole number of samples'],
      [['--once', '--count', '2'], '--once and --count both say how many samples'],
    ] as const) {
      const r = kvmctl(['vm', 'top', ...args], { env: { KVMCTL_STATE_DIR: stateDir } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});
