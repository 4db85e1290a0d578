/**
 * `vm migrate` between two lab hosts (two libvirtd, each in its own namespace)
 * joined by a veth: the migration data goes over it to the inventory's
 * migrationAddress, and kvmctl (the virsh client) reaches both daemons by their
 * sockets. The lab guest g1 moves with shared storage, then copy-inc, then copy;
 * then it is aborted by each signal (1 MiB/s makes it slow); meanwhile -H lists
 * it once, as migrating, without waiting for the job. A second, diskless guest
 * is aborted by --timeout on a terminal (the progress line), then has its qemu
 * killed mid-migration: on the target (exit 7, it runs on the source) and on the
 * source (exit 8, it runs nowhere; the printed recovery commands are run and
 * bring it back).
 * Each pre-check refusal is tried on defined, never started VMs (and g1, running,
 * whose disk the target does not see), and shown to change nothing. During the
 * slow job, -H host counts g1 once: running on the source, incoming on the target. After every case: g1's state on both hosts, and its serial
 * log (on storage both hosts see, appended to) still shows a single boot.
 * Last, vm create -H auto places a VM on one of the two (or refuses, naming why).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, LAB_NAME, LAB_SCRIPT, lab, type RunResult } from './lab.js';
import { parseJsonError, parseLines, parseOutput } from '../support/schemas.js';

const M1 = `${LAB_NAME}-m1`;
const M2 = `${LAB_NAME}-m2`;
const execFileAsync = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-migrate-'));
const hostsFile = join(tmp, 'hosts.yaml');
const root = dirname(lab.dir);
const SHARED = join(root, `${LAB_NAME}-mshared`);
const uri = { m1: '', m2: '' };
const poolDir = (n: string) => join(root, n, 'pools', 'e2e-mig');
const wasUp = new Set<string>();
const DIES = 'e2e-mdies';

function virsh(on: 'm1' | 'm2', ...args: string[]): RunResult {
  const r = spawnSync('virsh', ['-c', uri[on], ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`);
  return r.stdout;
}

interface Running {
  pid: number;
  done: Promise<RunResult>;
  stdout: () => string;
  /** Whether the process has ended: what a slow job's case checks instead of timing. */
  exited: () => boolean;
}
/** The built CLI, asynchronously (a migration takes seconds), with the test's inventory. */
/** from: the source host (-c), or null for a command that names its hosts itself (-H). */
function start(from: 'm1' | 'm2' | null, args: string[]): Running {
  const child = spawn(process.execPath, [KVMCTL, ...(from ? ['-c', uri[from]] : []), ...args], { env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_HOSTS: hostsFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  const done = new Promise<RunResult>((resolve) => child.on('close', (code) => ((exited = true), resolve({ code: code ?? -1, stdout, stderr }))));
  return { pid: child.pid ?? -1, done, stdout: () => stdout, exited: () => exited };
}
const run = (from: 'm1' | 'm2' | null, args: string[]) => start(from, args).done;

/** The built CLI on a pseudo-terminal of a known width (script(1)), as a sysadmin's session runs it: stdout and stderr in one. */
function onTerminal(from: 'm1' | 'm2', args: string[]): Promise<RunResult> {
  const argv = [process.execPath, KVMCTL, '-c', uri[from], ...args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', `stty cols 200 rows 40; exec ${argv}`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_HOSTS: hostsFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: '' })));
}

const domains = (on: 'm1' | 'm2') => virsh(on, 'list', '--all', '--name').stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
const state = (on: 'm1' | 'm2', name = 'g1') => virsh(on, 'domstate', '--domain', name, '--reason').stdout.trim();
const vols = (on: 'm1' | 'm2') => virsh(on, 'vol-list', '--pool', 'e2e-mig').stdout.trim();
const boots = (name = 'g1') => (readFileSync(join(SHARED, `${name}.serial.log`), 'utf8').match(/KVMCTL-GUEST-BOOTED/g) ?? []).length;
/** What both hosts hold: domains with their XML, and the volumes of the test pools. */
const fleet = () => (['m1', 'm2'] as const).map((h) => ({ h, doms: domains(h).map((d) => [d, state(h, d), virsh(h, 'dumpxml', '--inactive', '--domain', d).stdout]), vols: vols(h), shared: virsh(h, 'vol-list', '--pool', 'e2e-mshared').stdout }));

function domainXml(name: string, o: { uuid?: string; disk?: string; network?: string; memoryMiB?: number; cpu?: string; log?: string } = {}): string {
  const g = lab.guestDir;
  return `<domain type='qemu'><name>${name}</name>${o.uuid ? `<uuid>${o.uuid}</uuid>` : ''}<memory unit='MiB'>${o.memoryMiB ?? 200}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${g}/vmlinuz</kernel><initrd>${g}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>${o.cpu ?? ''}
  <features><acpi/></features><devices>
  ${o.disk ? `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${o.disk}'/><target dev='vda' bus='virtio'/></disk>` : ''}
  ${o.network ? `<interface type='network'><source network='${o.network}'/><model type='virtio'/></interface>` : ''}
  <serial type='pty'>${o.log ? `<log file='${o.log}' append='on'/>` : ''}</serial><console type='pty'/></devices></domain>`;
}
function define(on: 'm1' | 'm2', xml: string): void {
  const file = join(tmp, 'define.xml');
  writeFileSync(file, xml);
  must(virsh(on, 'define', '--file', file), `define on ${on}`);
}

function cleanup(): void {
  for (const h of ['m1', 'm2'] as const) {
    if (!uri[h]) continue;
    for (const d of domains(h).filter((n) => n.startsWith('e2e-m') || n === 'g1')) {
      virsh(h, 'destroy', '--domain', d);
      virsh(h, 'undefine', '--domain', d);
    }
    for (const p of ['e2e-mig', 'e2e-mshared', 'e2e-mpool1']) {
      virsh(h, 'pool-destroy', '--pool', p);
      virsh(h, 'pool-undefine', '--pool', p);
    }
    virsh(h, 'net-undefine', '--network', 'e2e-monly');
  }
  rmSync(SHARED, { recursive: true, force: true });
  for (const n of [M1, M2]) rmSync(poolDir(n), { recursive: true, force: true });
  rmSync(join(root, M1, 'pools', 'e2e-mpool1'), { recursive: true, force: true });
}

beforeAll(async () => {
  for (const n of [M1, M2]) {
    if (spawnSync('bash', [LAB_SCRIPT, 'status', n]).status === 0) wasUp.add(n);
    await execFileAsync('bash', [LAB_SCRIPT, 'up', n]);
  }
  uri.m1 = (await execFileAsync('bash', [LAB_SCRIPT, 'uri', M1])).stdout.trim();
  uri.m2 = (await execFileAsync('bash', [LAB_SCRIPT, 'uri', M2])).stdout.trim();
  const [a1, a2] = (await execFileAsync('bash', [LAB_SCRIPT, 'join', M1, M2])).stdout.trim().split(' ');
  writeFileSync(hostsFile, `hosts:\n  m1:\n    uri: "${uri.m1}"\n    migrationAddress: ${a1}\n  m2:\n    uri: "${uri.m2}"\n    migrationAddress: ${a2}\n`);
  cleanup();
  mkdirSync(SHARED, { recursive: true });
  for (const [h, n] of [['m1', M1], ['m2', M2]] as const) {
    mkdirSync(poolDir(n), { recursive: true });
    must(virsh(h, 'pool-define-as', 'e2e-mig', 'dir', '--target', poolDir(n)), 'pool e2e-mig');
    must(virsh(h, 'pool-start', 'e2e-mig'), 'pool-start e2e-mig');
    must(virsh(h, 'pool-define-as', 'e2e-mshared', 'dir', '--target', SHARED), 'pool e2e-mshared');
  }
  copyFileSync(join(lab.guestDir, 'disk.qcow2'), join(SHARED, 'base.qcow2'));
  for (const f of ['g1', 'e2e-moff']) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', join(SHARED, 'base.qcow2'), join(SHARED, `${f}.qcow2`)]);
  for (const h of ['m1', 'm2'] as const) must(virsh(h, 'pool-start', 'e2e-mshared'), 'pool-start e2e-mshared');
  define('m1', domainXml('g1', { disk: join(SHARED, 'g1.qcow2'), network: 'default', log: join(SHARED, 'g1.serial.log') }));
  must(virsh('m1', 'start', '--domain', 'g1'), 'start g1');
  // The guest whose qemu the failure cases kill: no disk, little memory, booted beside g1.
  define('m1', domainXml(DIES, { memoryMiB: 128, log: join(SHARED, `${DIES}.serial.log`) }));
  must(virsh('m1', 'start', '--domain', DIES), `start ${DIES}`);
  const deadline = Date.now() + 60_000;
  while (!['g1', DIES].every((n) => existsSync(join(SHARED, `${n}.serial.log`)) && boots(n) === 1)) {
    if (Date.now() > deadline) throw new Error(`g1 and ${DIES} did not boot within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 600_000);

afterAll(async () => {
  cleanup();
  for (const n of [M1, M2]) if (!wasUp.has(n) && process.env.KVMCTL_LAB_KEEP !== '1') await execFileAsync('bash', [LAB_SCRIPT, 'down', n]);
  rmSync(tmp, { recursive: true, force: true });
}, 300_000);

const events = (stdout: string) => parseLines(['vm', 'migrate'], stdout);
/** The fleet without the domains' states: an aborted job leaves the source running with another reason. */
const withoutStates = (f: ReturnType<typeof fleet>) => f.map(({ h, doms, vols }) => ({ h, doms: doms.map((d) => d.slice(0, 1).concat(d.slice(2))), vols }));

/** Waits until the job's NDJSON shows memory (or disk) data on its way to the target. */
async function sending(job: Running): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!/"event":"progress".*"dataProcessedBytes":[1-9]/.test(job.stdout())) {
    if (job.exited()) throw new Error(`vm migrate ended before any data was sent: ${(await job.done).stderr}`);
    if (Date.now() > deadline) throw new Error(`no data sent within 30 s: ${job.stdout()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The pid of the qemu that runs NAME on that lab host, from libvirt's pid file, checked against its command line. */
function qemuPid(on: 'm1' | 'm2', name: string): number {
  const pid = Number(readFileSync(join(root, on === 'm1' ? M1 : M2, 'run', 'qemu', `${name}.pid`), 'utf8').trim());
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(`guest=${name},`);
  return pid;
}

describe('vm migrate between two lab hosts', () => {
  it('shared storage (auto): live, NDJSON events, persistent on the target, undefined on the source, one boot', async () => {
    const r = await run('m1', ['vm', 'migrate', 'g1', '--to', 'm2', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', name: 'g1', source: 'm1', target: 'm2', live: true, storage: 'shared' });
    expect(ev[ev.length - 1]).toMatchObject({ event: 'migrated', state: 'running', sourceDefined: false, sourceDisksKept: [], changed: true });
    expect(state('m2')).toBe('running (migrated)');
    expect(virsh('m2', 'dominfo', '--domain', 'g1').stdout).toMatch(/Persistent:\s+yes/);
    expect(domains('m1')).not.toContain('g1');
    expect(boots()).toBe(1);
  });

  it('copy-inc into a pool of the target: only the top image moves, onto the same base', async () => {
    const r = await run('m2', ['vm', 'migrate', 'g1', '--to', 'm1', '--storage', 'copy-inc', '--target-pool', 'e2e-mig']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vm g1 migrated to m1 \(live, storage copy-inc\) in [\d.]+ s; running there; the source keeps its copy of .*\/g1\.qcow2\n$/);
    expect(state('m1')).toBe('running (migrated)');
    expect(virsh('m1', 'domblklist', '--domain', 'g1').stdout).toContain(join(poolDir(M1), 'g1.qcow2'));
    const info = spawnSync('qemu-img', ['info', '-U', '--output=json', join(poolDir(M1), 'g1.qcow2')], { encoding: 'utf8' });
    expect(JSON.parse(info.stdout)['backing-filename']).toBe(join(SHARED, 'base.qcow2'));
    expect(domains('m2')).not.toContain('g1');
    expect(boots()).toBe(1);
  });

  it('copy: a full image in the target pool; the source keeps its own, which volume delete then removes', async () => {
    const r = await run('m1', ['vm', 'migrate', 'g1', '--to', 'm2', '--storage', 'copy', '--target-pool', 'e2e-mig']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(state('m2')).toBe('running (migrated)');
    const disk = join(poolDir(M2), 'g1.qcow2');
    expect(virsh('m2', 'domblklist', '--domain', 'g1').stdout).toContain(disk);
    expect(JSON.parse(spawnSync('qemu-img', ['info', '-U', '--output=json', disk], { encoding: 'utf8' }).stdout)['backing-filename']).toBeUndefined();
    expect(domains('m1')).not.toContain('g1');
    expect(boots()).toBe(1);
    expect((await run('m1', ['volume', 'delete', 'e2e-mig/g1.qcow2'])).code).toBe(0);
    expect(vols('m1')).not.toContain('g1.qcow2');
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s during a slow copy: the job is aborted, exit 130, it still runs on the source, nothing left on the target', async (signal) => {
    const before = fleet();
    const job = start('m2', ['vm', 'migrate', 'g1', '--to', 'm1', '--target-pool', 'e2e-mig', '--bandwidth', '1', '-o', 'json']);
    await sending(job);
    if (signal === 'SIGTERM') {
      // Meanwhile both hosts hold g1 (the target paused for the migration): -H lists it once, as migrating,
      // and neither vm list nor host waits for the job (domstats --nowait): both end while it still runs.
      const list = await run(null, ['-H', 'm1', '-H', 'm2', 'vm', 'list', '-o', 'json']);
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      const listed = parseOutput(['-H', 'm1', '-H', 'm2', 'vm', 'list'], list.stdout);
      expect(listed.hosts).toEqual([
        { host: 'm1', ok: true, error: null },
        { host: 'm2', ok: true, error: null },
      ]);
      expect(listed.items.filter((v: { name: string }) => v.name === 'g1')).toEqual([expect.objectContaining({ host: 'm2', name: 'g1', state: 'migrating', migrating: true, migratingTo: 'm1' })]);
      const host = await run(null, ['-H', 'm1', '-H', 'm2', 'host', '-o', 'json']);
      expect(host.code, host.stderr).toBe(0);
      const reports = parseOutput(['-H', 'm1', '-H', 'm2', 'host'], host.stdout);
      expect(reports.hosts.every((h: { ok: boolean }) => h.ok)).toBe(true);
      expect(reports.items.map((h: { host: string; libvirt: { reachable: boolean } }) => [h.host, h.libvirt.reachable])).toEqual([['m1', true], ['m2', true]]);
      // g1 has a qemu on both (paused for the migration on m1): counted once, running on m2 where it comes from; m1 lists it as incoming.
      const active = (h: 'm1' | 'm2') => virsh(h, 'list', '--name').stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      expect(active('m1')).toContain('g1');
      expect(active('m2')).toContain('g1');
      type Capacity = { running: { vms: number }; defined: { vms: number }; incoming: unknown[] };
      const capacity = (h: string): Capacity => reports.items.find((i: { host: string }) => i.host === h).capacity;
      expect(capacity('m1').incoming).toEqual([{ name: 'g1', from: 'm2', vcpus: 1, memoryBytes: 200 * 1024 * 1024 }]);
      expect(capacity('m2').incoming).toEqual([]);
      expect(capacity('m1').running.vms).toBe(active('m1').length - 1);
      expect(capacity('m2').running.vms).toBe(active('m2').length);
      expect(capacity('m1').defined.vms).toBe(domains('m1').length - 1);
      expect(capacity('m1').running.vms + capacity('m2').running.vms).toBe(new Set([...active('m1'), ...active('m2')]).size);
      const table = await run(null, ['-H', 'm1', '-H', 'm2', 'host']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^== m1 ==\n[\s\S]*^incoming VMs\s+1 \(g1 from m2; counted there until it has moved\)$/m);
      expect(job.exited()).toBe(false);
      expect(virsh('m2', 'domjobinfo', '--domain', 'g1').stdout).toMatch(/^Job type:\s+Unbounded/m);
    }
    process.kill(job.pid, signal);
    const r = await job.done;
    expect(r.code).toBe(130);
    const err = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}').error;
    expect(err.message).toBe('migration of VM "g1" to m1 failed (interrupted; the job was aborted); it still runs on m2, nothing is left on m1');
    expect(state('m2')).toMatch(/^running \((migrated|migration-canceled)\)$/);
    expect(withoutStates(fleet())).toEqual(withoutStates(before));
    expect(boots()).toBe(1);
  });

  it('--timeout with --on-timeout abort, on a terminal: the job\'s progress, then exit 6 after the time; it still runs on the source, nothing left on the target', async () => {
    const before = withoutStates(fleet());
    const t0 = Date.now();
    // The tiny guest, whose memory alone moves: the line then has the speed and the expected downtime too.
    const r = await onTerminal('m1', ['vm', 'migrate', DIES, '--to', 'm2', '--bandwidth', '1', '--timeout', '4']);
    expect(r.code, r.stdout).toBe(6);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000);
    // The spinner's line, from the source's job info, and the time elapsed once.
    const size = '[\\d.]+ (?:B|[KMGT]iB)';
    expect(r.stdout).toMatch(new RegExp(`migrating ${DIES} to m2: ${size} of ${size} sent, ${size} left, ${size}/s, expected downtime \\d+ ms \\(\\d+ s\\)`));
    expect(r.stdout).not.toMatch(/\(\d+ s\) \(\d+ s\)/);
    expect(r.stdout).toContain(`migration of VM "${DIES}" to m2 failed (not finished within 4 s; the job was aborted); it still runs on m1, nothing is left on m2`);
    expect(r.stdout).toContain('hint: allow more time (--timeout), more bandwidth (--bandwidth), or let it finish paused (--on-timeout suspend)');
    expect(state('m1', DIES)).toMatch(/^running/);
    expect(withoutStates(fleet())).toEqual(before);
    expect(boots(DIES)).toBe(1);
  });
});

describe('a qemu dies during a slow live migration of the tiny guest', () => {
  /** Migrates it m1 → m2 at 1 MiB/s and kills its qemu on one side once data flows: kvmctl's exit code and JSON error. */
  async function killQemuOn(side: 'm1' | 'm2') {
    const job = start('m1', ['vm', 'migrate', DIES, '--to', 'm2', '--bandwidth', '1', '-o', 'json']);
    await sending(job);
    process.kill(qemuPid(side, DIES), 'SIGKILL');
    const r = await job.done;
    return { code: r.code, error: parseJsonError(r.stderr).error };
  }
  // The cases after these need it no more.
  afterAll(() => {
    virsh('m1', 'destroy', '--domain', DIES);
    virsh('m1', 'undefine', '--domain', DIES);
  });

  it("the target's: exit 7 with libvirt's reason; it still runs on the source, nothing is left on the target, no second boot", async () => {
    const before = fleet();
    const { code, error } = await killQemuOn('m2');
    expect(code).toBe(7);
    expect(error).toMatchObject({ code: 'rolled-back', exit: 7, object: { kind: 'vm', name: DIES } });
    expect(error.message).toMatch(new RegExp(`^migration of VM "${DIES}" to m2 failed \\((?!interrupted|not finished).+\\); it still runs on m1, nothing is left on m2$`));
    expect(error.hint).toBe(`see why on the target: kvmctl -c '${uri.m2}' host check; retry with -v to see the virsh command`);
    expect(state('m1', DIES)).toMatch(/^running /);
    expect(withoutStates(fleet())).toEqual(withoutStates(before));
    expect(boots(DIES)).toBe(1);
  });

  it("the source's: exit 8, it runs nowhere, and the hint's commands, run as printed, start it again on the source", async () => {
    const before = withoutStates(fleet());
    const { code, error } = await killQemuOn('m1');
    expect(code).toBe(8);
    expect(error).toMatchObject({ code: 'partial', exit: 8, leftovers: [], object: { kind: 'vm', name: DIES } });
    expect(error.message).toMatch(new RegExp(`^migration of VM "${DIES}" to m2 failed \\((?!interrupted|not finished).+\\) and it runs nowhere \\(on m1: shutoff, on m2: absent\\)$`));
    expect(error.hint).toBe(`recover with: kvmctl -c '${uri.m1}' vm start ${DIES}`);
    expect(state('m1', DIES)).toBe('shut off (crashed)');
    expect(domains('m2')).not.toContain(DIES);
    expect(withoutStates(fleet())).toEqual(before);
    expect(boots(DIES)).toBe(1);
    // Each command exactly as printed, by a shell whose kvmctl is the built one.
    for (const cmd of (error.hint ?? '').replace(/^recover with: /, '').split('; then ')) {
      const rec = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(KVMCTL)}:${process.env.PATH}`, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_HOSTS: hostsFile } });
      expect(rec.status, rec.stderr).toBe(0);
    }
    expect(state('m1', DIES)).toBe('running (booted)');
    const deadline = Date.now() + 60_000;
    while (boots(DIES) < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    // One new boot, the one the hint asked for; the target never ran it.
    expect(boots(DIES)).toBe(2);
    expect(withoutStates(fleet())).toEqual(before);
  });
});

describe('--on-timeout suspend', () => {
  it('pauses the guest on the source when the time is up, the copy then finishes: it runs on the target, gone from the source, one boot', async () => {
    const from = domains('m1').includes('g1') ? 'm1' : 'm2';
    const to = from === 'm1' ? 'm2' : 'm1';
    const r = await run(from, ['vm', 'migrate', 'g1', '--to', to, '--target-pool', 'e2e-mig', '--bandwidth', '10', '--timeout', '2', '--on-timeout', 'suspend', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    expect(ev.find((e) => e.event === 'suspend')).toMatchObject({ name: 'g1', afterSeconds: 2 });
    expect(ev[ev.length - 1]).toMatchObject({ event: 'migrated', suspendedAfterTimeout: true, sourceDefined: false, changed: true });
    // As documented (--on-timeout): it runs again on the target.
    expect(ev[ev.length - 1].state).toBe('running');
    expect(state(to)).toMatch(/^running \(/);
    expect(domains(from)).not.toContain('g1');
    expect(boots()).toBe(1);
    // The pre-check cases below start from where it was: move it back (the source kept its copy: remove it first).
    expect((await run(from, ['volume', 'delete', 'e2e-mig/g1.qcow2'])).code).toBe(0);
    const back = await run(to, ['vm', 'migrate', 'g1', '--to', from, '--target-pool', 'e2e-mig']);
    expect(back.code, back.stderr).toBe(0);
    expect(state(from)).toMatch(/^running \(/);
    expect(boots()).toBe(1);
  });
});

describe('the pre-check refuses (exit 5) and nothing changes', () => {
  const UUID = '3f0c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
  beforeAll(() => {
    define('m1', domainXml('e2e-mclash'));
    define('m2', domainXml('e2e-mclash'));
    define('m1', domainXml('e2e-muuid', { uuid: UUID }));
    define('m2', domainXml('e2e-muuid-copy', { uuid: UUID }));
    const net = join(tmp, 'net.xml');
    writeFileSync(net, "<network><name>e2e-monly</name><bridge name='kmonly0'/></network>");
    must(virsh('m1', 'net-define', '--file', net), 'net-define');
    define('m1', domainXml('e2e-mnet', { network: 'e2e-monly' }));
    define('m1', domainXml('e2e-mmem', { memoryMiB: 1024 * 1024 }));
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(poolDir(M1), 'e2e-mlocal.qcow2'), '64M']);
    must(virsh('m1', 'pool-refresh', '--pool', 'e2e-mig'), 'pool-refresh');
    define('m1', domainXml('e2e-mlocal', { disk: join(poolDir(M1), 'e2e-mlocal.qcow2') }));
    define('m1', domainXml('e2e-mcpu', { cpu: "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model><feature policy='require' name='avx512f'/></cpu>" }));
    define('m1', domainXml('e2e-moff', { disk: join(SHARED, 'e2e-moff.qcow2') }));
  });

  const sameHost = () => uri.m2.replace('/run/libvirt-sock', '/run/./libvirt-sock');
  it.each([
    ['a VM of that name on the target', 'm1', ['e2e-mclash', '--to', 'm2'], 'm2 already has a VM named "e2e-mclash"'],
    ['its UUID on the target under another name', 'm1', ['e2e-muuid', '--to', 'm2'], `m2 already has a VM with its UUID ${UUID} ("e2e-muuid-copy")`],
    ['the same host under another URI', 'm2', ['g1', '--to', 'SAME'], 'is the same host as m2 (host UUID '],
    ['a network the target lacks', 'm1', ['e2e-mnet', '--to', 'm2'], 'network "e2e-monly" does not exist on m2'],
    ['more memory than the target has', 'm1', ['e2e-mmem', '--to', 'm2'], /m2 has [\d.]+ GiB of memory in all, the VM needs 1\.0 TiB/],
    ['a disk the target does not see, offline', 'm1', ['e2e-mlocal', '--to', 'm2'], `disk vda (${join(poolDir(M1), 'e2e-mlocal.qcow2')}): m2 does not see the same volume at that path, and a shut-off VM's disks cannot be copied`],
    ['a CPU feature the target lacks', 'm1', ['e2e-mcpu', '--to', 'm2'], "the CPU of m2 cannot run the guest's CPU: Host CPU does not provide required features: avx512f"],
    ['a target pool that does not exist', 'm2', ['g1', '--to', 'm1', '--storage', 'copy', '--target-pool', 'nope'], 'storage pool "nope" does not exist on m1'],
  ] as const)('%s', async (_what, from, args, message) => {
    const before = fleet();
    const argv = args.map((a) => (a === 'SAME' ? sameHost() : a));
    const r = await run(from, ['vm', 'migrate', ...argv]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^kvmctl: error: vm migrate \S+ to \S+ refused, nothing was moved: /);
    if (typeof message === 'string') expect(r.stderr).toContain(message);
    else expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nhint: \S/);
    expect(fleet()).toEqual(before);
    expect(boots()).toBe(1);
  });

  it('a running VM whose disk the target does not see, with --storage shared: refused before libvirt is asked to migrate; it runs on, one boot', async () => {
    // Where the cases above left g1: its disk in the e2e-mig pool of its host, a path the other host has no volume at.
    const from = domains('m1').includes('g1') ? 'm1' : 'm2';
    const to = from === 'm1' ? 'm2' : 'm1';
    const disk = join(poolDir(from === 'm1' ? M1 : M2), 'g1.qcow2');
    expect(virsh(from, 'domblklist', '--domain', 'g1').stdout).toMatch(new RegExp(`^\\s*vda\\s+${disk.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(state(from)).toMatch(/^running /);
    const before = fleet();
    const r = await run(from, ['-v', 'vm', 'migrate', 'g1', '--to', to, '--storage', 'shared']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`kvmctl: error: vm migrate g1 to ${to} refused, nothing was moved: disk vda (${disk}): it is not copied (--storage shared) and ${to} does not see the same volume at that path\n`);
    expect(r.stderr).toContain('\nhint: copy it with --storage copy (or auto), or put it on storage both hosts see');
    // -v traces every command kvmctl ran: the reads of both hosts, and no virsh migrate (libvirt's own refusal would be "Unsafe migration").
    const traced = r.stderr.split('\n').filter((l) => /^[+<] /.test(l));
    expect(traced.some((l) => l.includes(uri[from]))).toBe(true);
    expect(traced.some((l) => l.includes(uri[to]))).toBe(true);
    expect(traced.filter((l) => /(^|[\s'"])migrate([\s'"]|$)/.test(l))).toEqual([]);
    expect(r.stderr).not.toContain('Unsafe migration');
    expect(state(from)).toMatch(/^running /);
    expect(domains(to)).not.toContain('g1');
    expect(fleet()).toEqual(before);
    expect(boots()).toBe(1);
  });

  it('a shut-off VM on shared storage moves offline; --keep-source leaves its definition here', async () => {
    const r = await run('m1', ['vm', 'migrate', 'e2e-moff', '--to', 'm2', '--keep-source']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vm e2e-moff migrated to m2 \(offline, storage shared\) in [\d.]+ s; shutoff there, still defined here\n$/);
    expect(state('m2', 'e2e-moff')).toMatch(/^shut off/);
    expect(virsh('m2', 'dominfo', '--domain', 'e2e-moff').stdout).toMatch(/Persistent:\s+yes/);
    expect(state('m1', 'e2e-moff')).toMatch(/^shut off/);
  });
});

describe('vm create -H auto across the two hosts', () => {
  const boot = () => `kernel=${lab.guestDir}/vmlinuz,initrd=${lab.guestDir}/initrd.img,cmdline=console=ttyS0`;
  it('no host has the network: exit 5 with every host\'s reason, nothing created anywhere', async () => {
    const before = fleet();
    const r = await run(null, ['-H', 'auto', 'vm', 'create', 'e2e-mplace', '--boot', boot(), '--network', 'network=e2e-monly', '--memory', '64M', '--no-start', '--explain']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('placement: m1 dropped: no active network "e2e-monly"\n');
    expect(r.stderr).toContain('placement: m2 dropped: no active network "e2e-monly"\n');
    expect(r.stderr).toContain('kvmctl: error: -H auto: no host of the inventory can take VM "e2e-mplace": ');
    expect(fleet()).toEqual(before);
  });

  it('a VM bigger than either host: each dropped for its memory and its vCPU limit, nothing created anywhere', async () => {
    const before = fleet();
    const r = await run(null, ['-H', 'auto', 'vm', 'create', 'e2e-mbig', '--boot', boot(), '--network', 'none', '--memory', '1T', '--vcpus', '64', '--no-start', '--explain']);
    expect(r.code).toBe(5);
    for (const h of ['m1', 'm2']) expect(r.stderr).toMatch(new RegExp(`^placement: ${h} dropped: [\\d.]+ GiB of memory available, the VM needs 1\\.0 TiB; \\d+ \\+ 64 vCPUs would pass 4 per CPU \\(\\d+ CPUs\\)$`, 'm'));
    expect(r.stderr).toContain('kvmctl: error: -H auto: no host of the inventory can take VM "e2e-mbig": ');
    expect(r.stderr).toMatch(/\nhint: \S/);
    expect(fleet()).toEqual(before);
  });

  it('a storage pool only m1 has: m2 dropped for it, m1 chosen, the disk made in that pool there', async () => {
    const dir = join(root, M1, 'pools', 'e2e-mpool1');
    mkdirSync(dir, { recursive: true });
    must(virsh('m1', 'pool-define-as', 'e2e-mpool1', 'dir', '--target', dir), 'pool e2e-mpool1');
    must(virsh('m1', 'pool-start', 'e2e-mpool1'), 'pool-start e2e-mpool1');
    const r = await run(null, ['-H', 'auto', 'vm', 'create', 'e2e-mpooled', '--boot', boot(), '--disk', 'size=1M,pool=e2e-mpool1', '--network', 'none', '--memory', '64M', '--no-start', '--explain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^placement: m1 kept: /m);
    expect(r.stderr).toContain('placement: m2 dropped: no active storage pool "e2e-mpool1"\n');
    expect(r.stderr).toMatch(/^placement: chose m1 /m);
    expect(virsh('m1', 'domblklist', '--domain', 'e2e-mpooled').stdout).toContain(join(dir, 'e2e-mpooled.qcow2'));
    expect(domains('m2')).not.toContain('e2e-mpooled');
  });

  it('--explain keeps both and names the choice; the VM is defined there and only there', async () => {
    const r = await run(null, ['-H', 'auto', 'vm', 'create', 'e2e-mplace', '--boot', boot(), '--network', 'none', '--memory', '64M', '--no-start', '--explain']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^placement: m1 kept: [\d.]+ GiB of memory available, \d+ of 8 vCPUs$/m);
    expect(r.stderr).toMatch(/^placement: m2 kept: /m);
    const chosen = /^placement: chose (m1|m2) /m.exec(r.stderr)?.[1] as 'm1' | 'm2';
    const other = chosen === 'm1' ? 'm2' : 'm1';
    expect(domains(chosen)).toContain('e2e-mplace');
    expect(domains(other)).not.toContain('e2e-mplace');
  });
});
