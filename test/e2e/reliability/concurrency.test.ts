/**
 * kvmctl processes racing each other, against the lab and a test namespace:
 * two creating the same VM, volume, libvirt network or bridge at once
 * (exactly one creates it, the other finds it unchanged or, with another
 * spec, gets exit 4; the object exists once and nothing partial is left);
 * twenty volume creates in one pool; ten identical `net nat enable`s (each
 * rule exactly once). Processes share a state directory (its locks), as runs
 * on one host do; one case uses two, as two machines driving one libvirt would.
 */
import { readdirSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, deleteNetns, inNetns, inNs, lab, makeNetns, newStateDir, printTally, record, removeStateDirs, start, virsh, type CliOptions, type RunResult } from './harness.js';

const POOL = 'rel-conc';
// Unique per run: network namespace names are machine-wide, and runs of other checkouts may overlap.
const NS = `rel-conc-net-${process.pid.toString(36)}`;
const poolDir = () => join(lab.dir, 'pools', POOL);
const guestDisk = () => join(lab.guestDir, 'disk.qcow2');
const VMS = ['rel-c-vm', 'rel-c-vm2', 'rel-c-vm3'];
const NET = 'rel-c-net';

let shared = '';

/** Starts every run at once and waits for all of them. */
async function race(runs: Array<{ args: string[]; o: CliOptions }>): Promise<RunResult[]> {
  const started = runs.map((r) => start(r.args, r.o));
  return Promise.all(started.map((s) => s.done));
}

function codes(results: RunResult[]): number[] {
  return results.map((r) => r.code).sort((a, b) => a - b);
}

function names(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

const domains = () => names(virsh('list', '--all', '--name').stdout);
const poolFiles = () => readdirSync(poolDir()).sort();

function cleanup(): void {
  for (const vm of VMS) {
    virsh('destroy', '--domain', vm);
    virsh('undefine', '--domain', vm);
  }
  virsh('net-destroy', '--network', NET);
  virsh('net-undefine', '--network', NET);
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(poolDir(), { recursive: true, force: true });
  deleteNetns(NS);
}

describe('concurrent kvmctl processes (against the lab and a test namespace)', () => {
  beforeAll(async () => {
    cleanup();
    shared = newStateDir();
    mkdirSync(poolDir(), { recursive: true });
    await cliOk(['pool', 'create', POOL, '--path', poolDir()], { stateDir: shared });
    await cliOk(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'base.qcow2'], { stateDir: shared });
    makeNetns(NS);
  });
  afterAll(() => {
    cleanup();
    removeStateDirs();
    printTally();
  });

  const vmArgs = (name: string, memory = '128M') => ['vm', 'create', name, '--image', `${POOL}/base.qcow2`, '--hostname', name, '--memory', memory, '--no-start'];

  it('two vm creates of the same VM: one creates it, the other finds it unchanged; one VM, its two volumes, nothing else', async () => {
    const results = await race([
      { args: vmArgs('rel-c-vm'), o: { stateDir: shared } },
      { args: vmArgs('rel-c-vm'), o: { stateDir: shared } },
    ]);
    expect(codes(results), results.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(results.map((r) => r.stdout.replace(/ \(.*$/s, '').trim()).sort()).toEqual(['vm rel-c-vm created', 'vm rel-c-vm unchanged']);
    expect(domains().filter((d) => d === 'rel-c-vm')).toEqual(['rel-c-vm']);
    expect(poolFiles()).toEqual(['base.qcow2', 'rel-c-vm-seed.iso', 'rel-c-vm.qcow2']);
    record('concurrency', 'vm create', '2 processes, same VM and spec', 2);
  });

  it('two vm creates of the same name with different specs: one creates it, the other is exit 4 and leaves nothing', async () => {
    const results = await race([
      { args: vmArgs('rel-c-vm2', '128M'), o: { stateDir: shared } },
      { args: vmArgs('rel-c-vm2', '192M'), o: { stateDir: shared } },
    ]);
    expect(codes(results), results.map((r) => r.stderr).join('\n')).toEqual([0, 4]);
    expect(results.find((r) => r.code === 4)?.stderr).toMatch(/VM "rel-c-vm2" already exists with a different spec \(memory: .*\); it was left unchanged/);
    expect(domains().filter((d) => d === 'rel-c-vm2')).toEqual(['rel-c-vm2']);
    expect(poolFiles().filter((f) => f.startsWith('rel-c-vm2'))).toEqual(['rel-c-vm2-seed.iso', 'rel-c-vm2.qcow2']);
    record('concurrency', 'vm create', '2 processes, same name, different specs', 2);
  });

  it('two vm creates of the same VM from separate state directories (no shared lock): libvirt lets one win, the other leaves nothing behind', async () => {
    const results = await race([
      { args: vmArgs('rel-c-vm3'), o: { stateDir: newStateDir() } },
      { args: vmArgs('rel-c-vm3'), o: { stateDir: newStateDir() } },
    ]);
    const [loser, winner] = [...results].sort((a, b) => b.code - a.code);
    expect(winner!.code, winner!.stderr).toBe(0);
    // Either it came second and found the VM (unchanged), or it lost the race for a name (exit 4, nothing of its own left).
    expect([0, 4], loser!.stderr).toContain(loser!.code);
    expect(domains().filter((d) => d === 'rel-c-vm3')).toEqual(['rel-c-vm3']);
    expect(poolFiles().filter((f) => f.startsWith('rel-c-vm3'))).toEqual(['rel-c-vm3-seed.iso', 'rel-c-vm3.qcow2']);
    const def = virsh('dumpxml', '--domain', 'rel-c-vm3').stdout;
    expect(def).toContain(join(poolDir(), 'rel-c-vm3.qcow2'));
    record('concurrency', 'vm create', '2 processes, separate state dirs (no lock)', 2);
  });

  it('two volume creates of the same volume: one creates it, the other finds it unchanged', async () => {
    const args = ['volume', 'create', 'rel-c-vol.qcow2', '--pool', POOL, '--size', '16M'];
    const results = await race([
      { args, o: { stateDir: shared } },
      { args, o: { stateDir: shared } },
    ]);
    expect(codes(results), results.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(results.map((r) => (/unchanged/.test(r.stdout) ? 'unchanged' : 'created')).sort()).toEqual(['created', 'unchanged']);
    expect(poolFiles().filter((f) => f.includes('rel-c-vol'))).toEqual(['rel-c-vol.qcow2']);
    record('concurrency', 'volume create', '2 processes, same volume', 2);
  });

  it('twenty volume creates with distinct names in one pool: all succeed, twenty volumes, no partial files', async () => {
    const want = Array.from({ length: 20 }, (_, i) => `rel-c-many-${String(i).padStart(2, '0')}.qcow2`);
    const results = await race(want.map((n) => ({ args: ['volume', 'create', n, '--pool', POOL, '--size', '1M'], o: { stateDir: shared } })));
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    expect(poolFiles().filter((f) => f.includes('rel-c-many'))).toEqual(want);
    const listed = names(virsh('vol-list', '--pool', POOL).stdout)
      .slice(2)
      .map((l) => l.split(/\s+/)[0])
      .filter((n) => n?.includes('rel-c-many'));
    expect(listed.sort()).toEqual(want);
    // Nothing hidden or temporary anywhere in the pool.
    expect(poolFiles().filter((f) => f.startsWith('.') || f.includes('part') || f.includes('tmp'))).toEqual([]);
    record('concurrency', 'volume create', '20 processes, distinct names, one pool', 20);
  });

  it('two net creates of the same network: one defines it, the other finds it unchanged; the network exists once', async () => {
    const args = ['net', 'create', NET, '--mode', 'isolated', '--subnet', '10.84.0.0/24', '--no-autostart'];
    const results = await race([
      { args, o: { stateDir: shared } },
      { args, o: { stateDir: shared } },
    ]);
    expect(codes(results), results.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(results.filter((r) => /unchanged/.test(r.stdout))).toHaveLength(1);
    expect(names(virsh('net-list', '--all', '--name').stdout).filter((n) => n === NET)).toEqual([NET]);
    record('concurrency', 'net create', '2 processes, same network', 2);
  });

  it('two bridge creates of the same bridge: one creates it, the other finds it unchanged', async () => {
    const args = ['bridge', 'create', 'relcbr0', '--address', '10.86.0.1/24'];
    const results = await race([
      { args, o: { stateDir: shared, netns: NS } },
      { args, o: { stateDir: shared, netns: NS } },
    ]);
    expect(codes(results), results.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(results.filter((r) => /unchanged/.test(r.stdout))).toHaveLength(1);
    const links = JSON.parse(inNetns(NS, 'ip', '-j', 'addr', 'show').stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
    expect(links.filter((l) => l.ifname === 'relcbr0').map((l) => l.addr_info.map((a) => a.local))).toEqual([['10.86.0.1']]);
    record('concurrency', 'bridge create', '2 processes, same bridge', 2);
  });

  it('ten identical net nat enables: one sets it up, nine find it unchanged; each rule exactly once', async () => {
    inNs(NS, ['ip', 'link', 'add', 'relc0', 'type', 'bridge'], ['ip', 'link', 'set', 'relc0', 'up'], ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    const args = ['net', 'nat', 'enable', '--bridge', 'relc0', '--subnet', '10.85.0.0/24'];
    const results = await race(Array.from({ length: 10 }, () => ({ args, o: { stateDir: shared, netns: NS } })));
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    expect(results.filter((r) => /unchanged/.test(r.stdout))).toHaveLength(9);
    const rules = inNetns(NS, 'iptables-save').stdout.split('\n').filter((l) => l.startsWith('-A') && l.includes('kvmctl:nat:relc0'));
    expect(rules).toHaveLength(3);
    expect(new Set(rules).size).toBe(3);
    const addrs = JSON.parse(inNetns(NS, 'ip', '-j', 'addr', 'show', 'dev', 'relc0').stdout)[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
    expect(addrs).toEqual(['10.85.0.1/24']);
    expect(inNetns(NS, 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.trim()).toBe('1');
    record('concurrency', 'net nat enable', '10 processes, same spec', 10);
  });
});
