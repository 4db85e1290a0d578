/**
 * Many hosts against three lab hosts of this file's own (three libvirtd, each in
 * its own namespace), with the built CLI:
 * - `-H … net leases`: the lab guest booted on f1 and on f2 (their default
 *   networks), a host whose socket is gone and one whose daemon is stopped
 *   (SIGSTOP): HOST column first, a host key on every object, one error row per
 *   failed host and the partial exit code (9); with only those two selected, the
 *   same table of error rows (`net leases`, `vm list`), JSON items empty, exit 1.
 * - `--parallel N`, shown by watching /proc: while kvmctl waits on hosts whose
 *   daemon is stopped, the number of its live virsh children never passes N and
 *   reaches it; every host gets its virsh in the end. Also the default (8).
 * - `vm create -H auto`: f1 and f2 answer with the same memory available (each
 *   daemon reads a /proc/meminfo of the test's own, bind-mounted in the lab
 *   daemon's private mount namespace only), so the tie goes to the first name;
 *   more memory on the other host moves the choice; the gone and the stopped
 *   host are dropped as not answering; the VM exists on the chosen host only.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, LAB_NAME, LAB_SCRIPT, lab, type RunResult } from './lab.js';
import { parseJsonError, parseOutput } from '../support/schemas.js';

const LABS = { f1: `${LAB_NAME}-f1`, f2: `${LAB_NAME}-f2`, f3: `${LAB_NAME}-f3` } as const;
type Lab = keyof typeof LABS;
const execFileAsync = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-fleet-'));
const hostsFile = join(tmp, 'hosts.yaml');
const stoppedFile = join(tmp, 'stopped.yaml');
const root = dirname(lab.dir);
const labDir = (l: Lab) => join(root, LABS[l]);
const sock = (l: Lab) => join(labDir(l), 'run', 'libvirt-sock');
const uri = (l: Lab) => `qemu+unix:///system?socket=${sock(l)}`;
const GONE_SOCK = join(root, LABS.f3, 'run', 'no-such-sock');
const GONE = `qemu+unix:///system?socket=${GONE_SOCK}`;
const GUESTS = { f1: { name: 'e2e-fleet-g1', mac: '52:54:00:e2:f1:01' }, f2: { name: 'e2e-fleet-g2', mac: '52:54:00:e2:f2:01' } } as const;
const serialLog = (l: 'f1' | 'f2') => join(labDir(l), 'pools', `${GUESTS[l].name}.serial.log`);
const meminfo = (l: Lab) => join(labDir(l), 'pools', 'e2e-fleet-meminfo');
const wasUp = new Set<Lab>();
const mounted = new Set<Lab>();
let stoppedPid = 0;

function virsh(l: Lab, ...args: string[]): RunResult {
  const r = spawnSync('virsh', ['-c', uri(l), ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`);
  return r.stdout;
}
const domains = (l: Lab) => must(virsh(l, 'list', '--all', '--name'), `list on ${l}`).split('\n').map((s) => s.trim()).filter(Boolean).sort();
const daemonPid = (l: Lab) => Number(readFileSync(join(labDir(l), 'libvirtd.pid'), 'utf8').trim());
/** What every host holds that a read or a refused create must leave alone. */
const fleet = () => ({ f1: domains('f1'), f2: domains('f2'), f3: domains('f3'), nets: (['f1', 'f2', 'f3'] as const).map((l) => virsh(l, 'net-list', '--all').stdout) });

function resume(): void {
  if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
  stoppedPid = 0;
}
/** fn while f3's daemon is stopped (SIGSTOP): its socket takes connections, and nothing answers them. */
async function whileStopped<T>(fn: () => Promise<T>): Promise<T> {
  stoppedPid = daemonPid('f3');
  process.kill(stoppedPid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    resume();
  }
}

interface Watched extends RunResult {
  /** The most virsh children alive at once (zombies not counted). */
  maxVirsh: number;
  /** Every virsh child seen: pid -> its command line. */
  virsh: Map<number, string>;
}

/** The live virsh children of pid, from /proc (each thread's children file). */
function virshChildren(pid: number): Map<number, string> {
  const kids = new Map<number, string>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let list = '';
    try {
      list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of list.trim().split(/\s+/).filter(Boolean).map(Number)) {
      try {
        const stat = /^\d+ \((.*)\) (\S)/.exec(readFileSync(`/proc/${child}/stat`, 'utf8'));
        if (stat?.[1] === 'virsh' && stat[2] !== 'Z') kids.set(child, readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' '));
      } catch {
        // Ended between the two reads.
      }
    }
  }
  return kids;
}

/** The built CLI with this file's inventory, its virsh children counted every 20 ms while it runs. */
function watched(args: string[], inventory = hostsFile): Promise<Watched> {
  // No URI but the inventory's: the caller's KVMCTL_URI or LIBVIRT_DEFAULT_URI never leaks in.
  const { KVMCTL_URI: _u, LIBVIRT_DEFAULT_URI: _d, ...env } = process.env;
  const child = spawn(process.execPath, [KVMCTL, ...args], { env: { ...env, NO_COLOR: '1', KVMCTL_HOSTS: inventory }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const seen = new Map<number, string>();
  let maxVirsh = 0;
  const timer = setInterval(() => {
    try {
      const now = virshChildren(child.pid ?? -1);
      // A virsh on its way out has no command line left: keep the one read while it ran.
      for (const [p, cmd] of now) if (!seen.get(p)) seen.set(p, cmd);
      maxVirsh = Math.max(maxVirsh, now.size);
    } catch {
      // kvmctl has exited.
    }
  }, 20);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, stdout, stderr, maxVirsh, virsh: seen });
    }),
  );
}
const run = watched;

/** A command in the mount namespace of the lab daemon (private to it: the machine's own mounts never change). */
function inDaemonMounts(l: Lab, ...args: string[]): void {
  const r = spawnSync('nsenter', ['-t', String(daemonPid(l)), '-m', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nsenter ${args.join(' ')} for ${LABS[l]}: ${r.stderr}`);
}

/** /proc/meminfo as the machine has it, with free, buffers and cached set (KiB). */
function fakeMeminfo(l: Lab, kib: { free: number; buffers: number; cached: number }): void {
  const set: Record<string, number> = { 'MemFree:': kib.free, 'Buffers:': kib.buffers, 'Cached:': kib.cached };
  const text = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .map((line) => {
      const key = line.split(/\s+/)[0] ?? '';
      return key in set ? `${key.padEnd(16)}${String(set[key]).padStart(8)} kB` : line;
    })
    .join('\n');
  // Written in place: the bind mount follows the file's inode.
  writeFileSync(meminfo(l), text);
  if (mounted.has(l)) return;
  inDaemonMounts(l, 'mount', '--bind', meminfo(l), '/proc/meminfo');
  mounted.add(l);
}

function defineGuest(l: 'f1' | 'f2'): void {
  const g = lab.guestDir;
  const { name, mac } = GUESTS[l];
  const xml = `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${g}/vmlinuz</kernel><initrd>${g}/initrd.img</initrd><cmdline>console=ttyS0 kvmctl.hostname=${name}</cmdline></os>
  <features><acpi/></features>
  <devices>
    <interface type='network'><source network='default'/><mac address='${mac}'/><model type='virtio'/></interface>
    <serial type='pty'><log file='${serialLog(l)}' append='off'/></serial>
    <console type='pty'/>
  </devices>
</domain>`;
  const file = join(tmp, `${name}.xml`);
  writeFileSync(file, xml);
  must(virsh(l, 'define', '--file', file), `define ${name}`);
  must(virsh(l, 'start', '--domain', name), `start ${name}`);
}

/** The address the guest reports on its console once it has its lease. */
async function leased(l: 'f1' | 'f2', timeoutMs = 150_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(serialLog(l), 'utf8');
    } catch {
      // The log appears when QEMU starts.
    }
    const m = /KVMCTL-GUEST-IP eth0 (\S+)/.exec(text);
    if (m?.[1]) return m[1];
    if (Date.now() > deadline) throw new Error(`${GUESTS[l].name} on ${l} reported no address; console:\n${text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function removeVm(l: Lab, name: string): void {
  if (!domains(l).includes(name)) return;
  virsh(l, 'destroy', '--domain', name);
  virsh(l, 'undefine', '--domain', name);
}
const PLACED = ['e2e-fleet-p1', 'e2e-fleet-p2', 'e2e-fleet-big'];

const address = { f1: '', f2: '' };

beforeAll(async () => {
  for (const l of ['f1', 'f2', 'f3'] as const) {
    if (spawnSync('bash', [LAB_SCRIPT, 'status', LABS[l]]).status === 0) wasUp.add(l);
    // Asynchronously: the test worker must keep answering vitest meanwhile.
    await execFileAsync('bash', [LAB_SCRIPT, 'up', LABS[l]]);
  }
  for (const l of ['f1', 'f2', 'f3'] as const) for (const n of [...PLACED, ...Object.values(GUESTS).map((g) => g.name)]) removeVm(l, n);
  for (const l of ['f1', 'f2'] as const) {
    mkdirSync(join(labDir(l), 'pools'), { recursive: true });
    defineGuest(l);
  }
  address.f1 = await leased('f1');
  address.f2 = await leased('f2');
  // zulu is f1 and comes first in the file; alpha (f2) comes first by name.
  writeFileSync(
    hostsFile,
    `hosts:\n  zulu:\n    uri: "${uri('f1')}"\n  alpha:\n    uri: "${uri('f2')}"\n  stopped:\n    uri: "${uri('f3')}"\n  gone:\n    uri: "${GONE}"\ngroups:\n  up: [zulu, alpha]\n`,
  );
  // Nine hosts of the inventory, all the stopped daemon: kvmctl cannot tell them apart from nine machines.
  writeFileSync(stoppedFile, `hosts:\n${Array.from({ length: 9 }, (_, i) => `  s${i + 1}:\n    uri: "${uri('f3')}"\n`).join('')}`);
}, 900_000);

afterAll(async () => {
  resume();
  for (const l of mounted) inDaemonMounts(l, 'umount', '/proc/meminfo');
  for (const l of ['f1', 'f2', 'f3'] as const) for (const n of [...PLACED, ...Object.values(GUESTS).map((g) => g.name)]) removeVm(l, n);
  for (const l of ['f1', 'f2', 'f3'] as const) {
    rmSync(meminfo(l), { force: true });
    if (l !== 'f3') rmSync(serialLog(l as 'f1' | 'f2'), { force: true });
    if (!wasUp.has(l) && process.env.KVMCTL_LAB_KEEP !== '1') await execFileAsync('bash', [LAB_SCRIPT, 'down', LABS[l]]);
  }
  rmSync(tmp, { recursive: true, force: true });
}, 600_000);

describe('-H … net leases across lab hosts', () => {
  const lease = (l: 'f1' | 'f2') => new RegExp(`^${l === 'f1' ? 'zulu' : 'alpha'}\\s+default\\s+${GUESTS[l].mac}\\s+${address[l].replace(/\./g, '\\.')}/24\\s+${GUESTS[l].name}\\s+\\S+\\s+${GUESTS[l].name}$`, 'm');

  it('both answering hosts: one table with HOST first, each lease with its VM; JSON has a host key on every object; exit 0', async () => {
    const table = await run(['-H', '@up', 'net', 'leases']);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^HOST\s+NETWORK\s+MAC\s+IP\s+HOSTNAME\s+EXPIRES\s+VM$/);
    expect(table.stdout).toMatch(lease('f1'));
    expect(table.stdout).toMatch(lease('f2'));
    const json = await run(['-H', '@up', 'net', 'leases', '-o', 'json']);
    expect(json.code).toBe(0);
    const { items, hosts } = parseOutput(['-H', '@up', 'net', 'leases'], json.stdout);
    expect(hosts).toEqual([
      { host: 'zulu', ok: true, error: null },
      { host: 'alpha', ok: true, error: null },
    ]);
    expect(items).toEqual([
      expect.objectContaining({ host: 'zulu', network: 'default', mac: GUESTS.f1.mac, address: address.f1, prefix: 24, hostname: GUESTS.f1.name, vm: GUESTS.f1.name }),
      expect.objectContaining({ host: 'alpha', network: 'default', mac: GUESTS.f2.mac, address: address.f2, prefix: 24, hostname: GUESTS.f2.name, vm: GUESTS.f2.name }),
    ]);
  });

  it('a host whose socket is gone and one whose daemon is stopped: one error row each, the leases of the others, exit 9; nothing changes', async () => {
    const before = fleet();
    const [table, json] = await whileStopped(async () => [await run(['-H', 'all', '--host-timeout', '4', 'net', 'leases']), await run(['-H', 'all', '--host-timeout', '4', 'net', 'leases', '-o', 'json'])]);
    expect(table.code).toBe(9);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^HOST\s+NETWORK\s+MAC/);
    expect(table.stdout).toMatch(lease('f1'));
    expect(table.stdout).toMatch(lease('f2'));
    expect(table.stdout).toMatch(/^stopped\s+error: no answer within 4 s; its programs were stopped\s/m);
    expect(table.stdout).toMatch(new RegExp(`^gone\\s+error: cannot reach libvirt at ${GONE.replace(/[?+.]/g, '\\$&')} \\(Failed to connect socket to '${GONE_SOCK}': No such file or directory\\)\\s`, 'm'));
    expect(rows).toHaveLength(5);
    expect(table.stderr).toMatch(/^kvmctl: error: 2 of 4 hosts failed, the others are shown: stopped: no answer within 4 s; its programs were stopped; gone: cannot reach libvirt at /m);
    expect(table.stderr).toContain('\nhint: check those hosts with: kvmctl host list\n');
    expect(json.code).toBe(9);
    const { items, hosts } = parseOutput(['-H', 'all', 'net', 'leases'], json.stdout);
    expect(hosts).toEqual([
      { host: 'zulu', ok: true, error: null },
      { host: 'alpha', ok: true, error: null },
      { host: 'stopped', ok: false, error: 'no answer within 4 s; its programs were stopped' },
      { host: 'gone', ok: false, error: expect.stringMatching(/^cannot reach libvirt at .*No such file or directory\)$/) },
    ]);
    expect(items.map((i: { host: string; mac: string }) => `${i.host} ${i.mac}`)).toEqual([`zulu ${GUESTS.f1.mac}`, `alpha ${GUESTS.f2.mac}`]);
    expect(parseJsonError(json.stderr).error).toMatchObject({ code: 'partial-result', exit: 9 });
    expect(fleet()).toEqual(before);
  });

  it('every selected host failing is their common exit code (5: unreachable) and names each', async () => {
    const r = await run(['-H', 'gone', 'net', 'leases']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^kvmctl: error: every host failed: gone: cannot reach libvirt at .*No such file or directory\)\nhint: check those hosts with: kvmctl host list\n$/);
  });

  it('every host failing (the socket gone, the daemon stopped): the table a partial failure prints, one error row each; exit 1, their codes (5, 6) differing; nothing changes', async () => {
    const before = fleet();
    const sel = ['-H', 'stopped', '-H', 'gone', '--host-timeout', '4'];
    const [leases, vms, json] = await whileStopped(async () => [await run([...sel, 'net', 'leases']), await run([...sel, 'vm', 'list']), await run([...sel, 'vm', 'list', '-o', 'json'])]);
    const gone = new RegExp(`^gone\\s+error: cannot reach libvirt at ${GONE.replace(/[?+.]/g, '\\$&')} \\(Failed to connect socket to '${GONE_SOCK}': No such file or directory\\)(\\s|$)`);
    const stopped = /^stopped\s+error: no answer within 4 s; its programs were stopped(\s|$)/;
    for (const [r, header] of [
      [leases, /^HOST\s+NETWORK\s+MAC\s+IP\s+HOSTNAME\s+EXPIRES\s+VM$/],
      [vms, /^HOST\s+NAME\s+STATE\s/],
    ] as const) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^kvmctl: error: every host failed: stopped: no answer within 4 s; its programs were stopped; gone: cannot reach libvirt at .*No such file or directory\)\nhint: check those hosts with: kvmctl host list\n$/);
      expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(header), expect.stringMatching(stopped), expect.stringMatching(gone)]);
    }
    expect(json.code).toBe(1);
    const { items, hosts } = parseOutput([...sel, 'vm', 'list'], json.stdout);
    expect(items).toEqual([]);
    expect(hosts).toEqual([
      { host: 'stopped', ok: false, error: 'no answer within 4 s; its programs were stopped' },
      { host: 'gone', ok: false, error: expect.stringMatching(/^cannot reach libvirt at .*No such file or directory\)$/) },
    ]);
    expect(parseJsonError(json.stderr).error).toMatchObject({ code: 'failure', exit: 1, message: expect.stringMatching(/^every host failed: stopped: /) });
    expect(fleet()).toEqual(before);
  });
});

describe('--parallel, watched in /proc', () => {
  const allStopped = (r: Watched, n: number) => {
    // Each virsh kvmctl started went to the stopped daemon, one per host of the file.
    expect([...r.virsh.values()].every((cmd) => cmd.includes(sock('f3')))).toBe(true);
    expect(r.virsh.size).toBe(n);
  };

  it('-H all --parallel 3 on nine hosts that never answer: at most three virsh at once, and each host gets its own', async () => {
    const r = await whileStopped(() => watched(['-H', 'all', '--parallel', '3', '--host-timeout', '2', 'net', 'leases', '-o', 'json'], stoppedFile));
    expect(r.maxVirsh).toBe(3);
    allStopped(r, 9);
    expect(r.code).toBe(6);
    expect(parseJsonError(r.stderr).error.message).toMatch(/^every host failed: s1: no answer within 2 s; its programs were stopped; s2: /);
    expect(parseOutput(['-H', 'all', 'net', 'leases'], r.stdout).hosts.map((h: { ok: boolean }) => h.ok)).toEqual(Array(9).fill(false));
  });

  it('the default is 8: nine hosts that never answer have eight virsh at once, then the ninth', async () => {
    const r = await whileStopped(() => watched(['-H', 'all', '--host-timeout', '2', 'net', 'leases'], stoppedFile));
    expect(r.maxVirsh).toBe(8);
    allStopped(r, 9);
    expect(r.code).toBe(6);
  });

  it('host list --parallel 2 probes two hosts at a time and lists each as not answering (exit 0)', async () => {
    const r = await whileStopped(() => watched(['--parallel', '2', '--host-timeout', '2', 'host', 'list', '-o', 'json'], stoppedFile));
    expect(r.maxVirsh, r.stderr).toBe(2);
    allStopped(r, 9);
    expect(r.code).toBe(0);
    const rows = parseOutput(['host', 'list'], r.stdout);
    expect(rows.map((h: { answers: boolean; error: string }) => [h.answers, h.error])).toEqual(Array(9).fill([false, 'no answer within 2 s; its programs were stopped']));
  });
});

describe('vm create -H auto: placement', () => {
  const boot = () => `kernel=${lab.guestDir}/vmlinuz,initrd=${lab.guestDir}/initrd.img,cmdline=console=ttyS0`;
  const GiB = 1024 * 1024;
  const create = (name: string, memory = '64M') => run(['-H', 'auto', '--host-timeout', '5', 'vm', 'create', name, '--boot', boot(), '--network', 'none', '--memory', memory, '--no-start', '--explain']);
  const kept = (h: string, gib: string) => new RegExp(`^placement: ${h} kept: ${gib} GiB of memory available, \\d+ of \\d+ vCPUs$`, 'm');
  const notAnswering = (r: Watched) => {
    expect(r.stderr).toContain(`placement: gone dropped: does not answer: cannot reach libvirt at ${GONE} (Failed to connect socket to '${GONE_SOCK}': No such file or directory)\n`);
    expect(r.stderr).toContain('placement: stopped dropped: does not answer: no answer within 5 s; its programs were stopped\n');
  };

  it('equal memory available on two hosts (made of different free, buffers and cached): the first name wins; the gone and the stopped host are dropped; the VM is on that host only', async () => {
    fakeMeminfo('f1', { free: 3 * GiB, buffers: 1 * GiB, cached: 1 * GiB });
    fakeMeminfo('f2', { free: 4 * GiB, buffers: 0, cached: 1 * GiB });
    const before = fleet();
    const r = await whileStopped(() => create('e2e-fleet-p1'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(kept('alpha', '5\\.0'));
    expect(r.stderr).toMatch(kept('zulu', '5\\.0'));
    notAnswering(r);
    expect(r.stderr).toContain('placement: chose alpha (the most memory available of the hosts kept; ties go to the first name)\n');
    // --explain lists the hosts by name, whatever the file's order.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('placement: ')).map((l) => l.split(' ')[1])).toEqual(['alpha', 'gone', 'stopped', 'zulu', 'chose']);
    expect(fleet()).toEqual({ ...before, f2: [...before.f2, 'e2e-fleet-p1'].sort() });
  });

  it('more memory available on the later name moves the choice there, and only there', async () => {
    fakeMeminfo('f1', { free: 5 * GiB, buffers: 0, cached: 1 * GiB });
    const before = fleet();
    const r = await whileStopped(() => create('e2e-fleet-p2'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(kept('zulu', '6\\.0'));
    expect(r.stderr).toMatch(kept('alpha', '5\\.0'));
    notAnswering(r);
    expect(r.stderr).toContain('placement: chose zulu ');
    expect(fleet()).toEqual({ ...before, f1: [...before.f1, 'e2e-fleet-p2'].sort() });
  });

  it('no host can take it (the answering ones lack memory, the others do not answer): exit 5 naming every host\'s reason; nothing created anywhere', async () => {
    const before = fleet();
    const r = await whileStopped(() => create('e2e-fleet-big', '7G'));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('placement: zulu dropped: 6.0 GiB of memory available, the VM needs 7.0 GiB\n');
    expect(r.stderr).toContain('placement: alpha dropped: 5.0 GiB of memory available, the VM needs 7.0 GiB\n');
    notAnswering(r);
    expect(r.stderr).not.toContain('placement: chose');
    expect(r.stderr).toContain(
      'kvmctl: error: -H auto: no host of the inventory can take VM "e2e-fleet-big": zulu: 6.0 GiB of memory available, the VM needs 7.0 GiB; alpha: 5.0 GiB of memory available, the VM needs 7.0 GiB; stopped: does not answer: no answer within 5 s; its programs were stopped; gone: does not answer: cannot reach libvirt at ',
    );
    expect(r.stderr).toMatch(/\nhint: free memory, start the missing networks or pools, or add a host \(kvmctl host add\)\n$/);
    expect(fleet()).toEqual(before);
  });
});
