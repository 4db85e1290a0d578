/**
 * -H across ten lab hosts (ten libvirtd, each in its own namespace), one whose
 * socket is gone and one whose daemon is stopped with SIGSTOP: the eight others
 * are listed with a HOST column (JSON: a host key), the two are one error row
 * each, the stopped one is given up after --host-timeout, and the exit code is
 * the documented partial result (9). Guests are only defined, never started.
 * pool list, volume list, vm info and host run on two of them (one pool each).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_NAME, LAB_SCRIPT, kvmctl } from './lab.js';
import { parseJsonError, parseOutput } from '../support/schemas.js';

const NAMES = [LAB_NAME, ...'abcdefghi'.split('').map((c) => `${LAB_NAME}-${c}`)];
const GONE = NAMES[8] ?? '';
const STOPPED = NAMES[9] ?? '';
const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-fanout-'));
const env = { KVMCTL_HOSTS: join(dir, 'hosts.yaml') };
const wasUp = new Set<string>();
const uri = (n: string) => execFileSync('bash', [LAB_SCRIPT, 'uri', n], { encoding: 'utf8' }).trim();
const sock = (n: string) => uri(n).replace(/^.*socket=/, '');
let stoppedPid = 0;
/** A dir pool with one volume named after the host, on h1 and h2 (pool list and volume list with -H). */
const POOL = 'fan-pool';
const POOLED = [1, 2] as const;
const poolDir = (n: string) => join(dirname(dirname(sock(n))), 'pools', POOL);

function virshOn(n: string, ...args: string[]) {
  return spawnSync('virsh', ['-c', uri(n), ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  // Asynchronously: ten lab starts take a minute, and the test worker must keep answering meanwhile.
  for (const n of NAMES) {
    if (spawnSync('bash', [LAB_SCRIPT, 'status', n]).status === 0) wasUp.add(n);
    await execFileAsync('bash', [LAB_SCRIPT, 'up', n]);
  }
  const hosts = NAMES.map((n, i) => `  h${i}:\n    uri: "${uri(n)}"\n`).join('');
  writeFileSync(env.KVMCTL_HOSTS, `hosts:\n${hosts}groups:\n  odd: [h1, h3]\n`);
  // Two defined (never started) VMs per host, named after it.
  for (const [i, n] of NAMES.entries()) {
    for (const k of [1, 2]) {
      const name = `fan-h${i}-${k}`;
      if (virshOn(n, 'dominfo', name).status === 0) continue;
      const xml = join(dir, `${name}.xml`);
      writeFileSync(xml, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
      expect(virshOn(n, 'define', xml).status).toBe(0);
    }
  }
  for (const i of POOLED) {
    const n = NAMES[i] ?? '';
    if (virshOn(n, 'pool-info', POOL).status !== 0) {
      mkdirSync(poolDir(n), { recursive: true });
      expect(virshOn(n, 'pool-define-as', POOL, 'dir', '--target', poolDir(n)).status).toBe(0);
      expect(virshOn(n, 'pool-start', POOL).status).toBe(0);
    }
    if (virshOn(n, 'vol-info', '--pool', POOL, `fan-h${i}.qcow2`).status !== 0) expect(virshOn(n, 'vol-create-as', POOL, `fan-h${i}.qcow2`, '1M', '--format', 'qcow2').status).toBe(0);
  }
  renameSync(sock(GONE), `${sock(GONE)}.away`);
  stoppedPid = Number(readFileSync(join(sock(STOPPED), '../../libvirtd.pid'), 'utf8').trim());
  process.kill(stoppedPid, 'SIGSTOP');
}, 900_000);

afterAll(async () => {
  if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
  if (existsSync(`${sock(GONE)}.away`)) renameSync(`${sock(GONE)}.away`, sock(GONE));
  for (const [i, n] of NAMES.entries()) for (const k of [1, 2]) virshOn(n, 'undefine', `fan-h${i}-${k}`);
  for (const i of POOLED) {
    const n = NAMES[i] ?? '';
    virshOn(n, 'vol-delete', '--pool', POOL, `fan-h${i}.qcow2`);
    virshOn(n, 'pool-destroy', POOL);
    virshOn(n, 'pool-undefine', POOL);
    rmSync(poolDir(n), { recursive: true, force: true });
  }
  // Asynchronously, as in beforeAll: nine lab stops in a row would keep the test worker from answering vitest.
  for (const n of NAMES) if (!wasUp.has(n) && n !== LAB_NAME && process.env.KVMCTL_LAB_KEEP !== '1') await execFileAsync('bash', [LAB_SCRIPT, 'down', n]);
  rmSync(dir, { recursive: true, force: true });
}, 600_000);

describe('-H across ten lab hosts', () => {
  it('vm list -H all: every answering host listed once with its host key; the gone and the stopped host are error rows; exit 9', () => {
    const r = kvmctl(['-H', 'all', '--host-timeout', '8', 'vm', 'list', '-o', 'json'], { uri: null, env });
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/2 of 10 hosts failed, the others are shown: /);
    const { items, hosts } = parseOutput(['-H', 'all', 'vm', 'list'], r.stdout);
    expect(hosts).toHaveLength(10);
    const failed = hosts.filter((h: { ok: boolean }) => !h.ok);
    expect(failed.map((h: { host: string }) => h.host).sort()).toEqual(['h8', 'h9']);
    expect(failed.find((h: { host: string }) => h.host === 'h8').error).toMatch(/cannot reach libvirt .*No such file or directory/);
    expect(failed.find((h: { host: string }) => h.host === 'h9').error).toBe('no answer within 8 s; its programs were stopped');
    const mine = items.filter((v: { name: string }) => v.name.startsWith('fan-'));
    expect(mine.map((v: { host: string; name: string }) => `${v.host}:${v.name}`).sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [`h${i}:fan-h${i}-1`, `h${i}:fan-h${i}-2`]).sort(),
    );
    expect(items.every((v: { host?: string }) => typeof v.host === 'string')).toBe(true);
    // The stopped daemon left no virsh behind: kvmctl stopped its program.
    expect(spawnSync('pgrep', ['-f', sock(STOPPED)], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('the table has HOST first, one error row per failed host; @group and --parallel select and limit', () => {
    const r = kvmctl(['-H', 'all', '--host-timeout', '8', '--parallel', '4', 'vm', 'list'], { uri: null, env });
    expect(r.code).toBe(9);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+NAME\s+STATE/);
    expect(r.stdout).toMatch(/^h3\s+fan-h3-1\s+shutoff/m);
    expect(r.stdout).toMatch(/^h8\s+error: cannot reach libvirt/m);
    expect(r.stdout).toMatch(/^h9\s+error: no answer within 8 s; its programs were stopped\s/m);
    const odd = kvmctl(['-H', '@odd', 'vm', 'list', '--name-only', '-o', 'json'], { uri: null, env });
    expect(odd.code).toBe(0);
    const { items, hosts } = parseOutput(['-H', '@odd', 'vm', 'list', '--name-only'], odd.stdout);
    expect(hosts).toEqual([
      { host: 'h1', ok: true, error: null },
      { host: 'h3', ok: true, error: null },
    ]);
    expect(items.filter((i: { value: string }) => i.value.startsWith('fan-')).map((i: { host: string; value: string }) => `${i.host}:${i.value}`)).toEqual(['h1:fan-h1-1', 'h1:fan-h1-2', 'h3:fan-h3-1', 'h3:fan-h3-2']);
  });

  it('net list, pool list and host check run on each host too; a write command with -H is exit 2 and runs nothing', () => {
    const pools = kvmctl(['-H', 'h1', '-H', 'h2', 'pool', 'list', '-o', 'json'], { uri: null, env });
    expect(pools.stderr).toBe('');
    expect(pools.code).toBe(0);
    const poolRows = parseOutput(['-H', 'h1', 'pool', 'list'], pools.stdout).items;
    expect(poolRows.map((p: { host: string; name: string; targetPath: string }) => [p.host, p.name, p.targetPath])).toEqual(POOLED.map((i) => [`h${i}`, POOL, poolDir(NAMES[i] ?? '')]));
    const nets = kvmctl(['-H', 'h0', '-H', 'h1', 'net', 'list', '-o', 'json'], { uri: null, env });
    expect(nets.code).toBe(0);
    expect(parseOutput(['-H', 'h0', 'net', 'list'], nets.stdout).items.map((n: { host: string; name: string }) => `${n.host}:${n.name}`)).toEqual(['h0:default', 'h1:default']);
    const check = kvmctl(['-H', 'h2', 'host', 'check', '-o', 'json'], { uri: null, env });
    expect(check.code).toBe(0);
    expect(parseOutput(['-H', 'h2', 'host', 'check'], check.stdout).items[0]).toMatchObject({ host: 'h2', ok: true });
    const start = kvmctl(['-H', 'all', 'vm', 'start', 'fan-h0-1'], { uri: null, env });
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/-H does not apply to kvmctl vm start/);
    expect(virshOn(LAB_NAME, 'domstate', 'fan-h0-1').stdout.trim()).toBe('shut off');
    const unknown = kvmctl(['-H', 'nope', 'vm', 'list'], { uri: null, env });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no host "nope"/);
  });

  it('volume list, vm info and host run on each host; vm info of a VM one host lacks is that host\'s error row (exit 9)', () => {
    const sel = ['-H', 'h1', '-H', 'h2'];
    const vols = kvmctl([...sel, 'volume', 'list', '--pool', POOL, '-o', 'json'], { uri: null, env });
    expect(vols.stderr).toBe('');
    expect(vols.code).toBe(0);
    expect(parseOutput([...sel, 'volume', 'list'], vols.stdout).items.map((v: { host: string; path: string }) => [v.host, v.path])).toEqual(POOLED.map((i) => [`h${i}`, join(poolDir(NAMES[i] ?? ''), `fan-h${i}.qcow2`)]));
    const info = kvmctl([...sel, 'vm', 'info', 'fan-h1-1', '-o', 'json'], { uri: null, env });
    expect(info.code).toBe(9);
    expect(parseJsonError(info.stderr).error).toMatchObject({ code: 'partial-result', exit: 9, message: expect.stringMatching(/^1 of 2 hosts failed, the others are shown: h2: VM "fan-h1-1" not found/) });
    const shown = parseOutput([...sel, 'vm', 'info'], info.stdout);
    expect(shown.items).toEqual([expect.objectContaining({ host: 'h1', name: 'fan-h1-1', state: 'shutoff' })]);
    expect(shown.hosts).toEqual([
      { host: 'h1', ok: true, error: null },
      { host: 'h2', ok: false, error: expect.stringMatching(/^VM "fan-h1-1" not found/) },
    ]);
    const host = kvmctl([...sel, 'host', '-o', 'json'], { uri: null, env });
    expect(host.code, host.stderr).toBe(0);
    const reports = parseOutput([...sel, 'host'], host.stdout).items;
    // Each report is that host's own: its URI, and its two defined VMs.
    expect(reports.map((h: { host: string; libvirt: { uri: string }; capacity: { defined: { vms: number } } }) => [h.host, h.libvirt.uri, h.capacity.defined.vms])).toEqual(POOLED.map((i) => [`h${i}`, uri(NAMES[i] ?? ''), 2]));
  });
});
