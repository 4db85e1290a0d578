/**
 * volume list -o json against 1200 shut-off VMs on the lab host, each the user
 * of one volume of a pool (a few of them readonly): the VMs' XML is more than
 * one virsh argument holds, so it is read through one virsh fed on stdin, and
 * the users and their readonly flags are libvirt's own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, virsh } from './lab.js';
import { run, runJson } from './storage-run.js';

const COUNT = 1200;
const POOL = 'e2e-users';
const dir = () => join(lab.dir, 'pools', POOL);
const vmName = (i: number) => `e2e-users-vm${String(i).padStart(4, '0')}`;
const volName = (i: number) => `u${String(i).padStart(4, '0')}.img`;
/** Every 400th VM's disk is readonly. */
const isReadonly = (i: number) => i % 400 === 7;

/** One virsh process reads the command lines from stdin (as many defines as undefines take a second, not minutes). */
function virshLines(lines: string[]): void {
  const r = spawnSync('virsh', ['-q', '-c', lab.uri], { encoding: 'utf8', input: lines.join('\n') + '\n', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`virsh (${lines[0]} ...) failed: ${r.stderr}`);
}

function cleanup(): void {
  const names = virsh('list', '--all', '--name').stdout.split('\n').map((l) => l.trim()).filter((n) => n.startsWith('e2e-users-vm'));
  if (names.length > 0) virshLines(names.map((n) => `undefine --domain ${n}`));
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(dir(), { recursive: true, force: true });
}

describe(`volume list -o json with ${COUNT} VMs using the listed volumes (against the lab host)`, () => {
  beforeAll(() => {
    cleanup();
    mkdirSync(dir(), { recursive: true });
    // Sparse raw files of 1 MiB: domstats does not answer for a VM whose disk is an empty file (its XML is read, table or not).
    for (let i = 0; i < COUNT; i++) {
      writeFileSync(join(dir(), volName(i)), '', { flag: 'wx' });
      truncateSync(join(dir(), volName(i)), 1 << 20);
    }
    const defs = mkdtempSync(join(lab.dir, 'e2e-users-xml-'));
    try {
      const lines = Array.from({ length: COUNT }, (_, i) => {
        const file = join(defs, `${i}.xml`);
        const disk = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${join(dir(), volName(i))}'/><target dev='vda' bus='virtio'/>${isReadonly(i) ? '<readonly/>' : ''}</disk>`;
        writeFileSync(file, `<domain type='qemu'><name>${vmName(i)}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices>${disk}</devices></domain>\n`);
        return `define ${file}`;
      });
      virshLines(lines);
    } finally {
      rmSync(defs, { recursive: true, force: true });
    }
    const def = virsh('pool-define-as', '--name', POOL, '--type', 'dir', '--target', dir());
    if (def.code !== 0) throw new Error(`pool-define-as: ${def.stderr}`);
    const start = virsh('pool-start', '--pool', POOL);
    if (start.code !== 0) throw new Error(`pool-start: ${start.stderr}`);
  }, 120_000);
  afterAll(cleanup, 120_000);

  it('names every user with its readonly flag as libvirt has it, reading the VMs in one virsh process', async () => {
    const r = await run(['-v', 'volume', 'list', '--pool', POOL, '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ name: string; users: Array<{ vm: string; state: string; target: string; readonly: boolean }> }>;
    expect(list).toHaveLength(COUNT);
    const users = new Map(list.map((v) => [v.name, v.users]));
    for (let i = 0; i < COUNT; i++) expect(users.get(volName(i))).toEqual([{ vm: vmName(i), state: 'shutoff', active: false, target: 'vda', readonly: isReadonly(i) }]);
    // libvirt's own word on two of them.
    expect(virsh('dumpxml', '--domain', vmName(7)).stdout).toMatch(/<readonly\/>/);
    expect(virsh('dumpxml', '--domain', vmName(8)).stdout).not.toMatch(/<readonly\/>/);
    // Pool details, domstats, then every VM's dumpxml through one virsh on stdin (-v prints its lines after `<`).
    const processes = r.stderr.split('\n').filter((l) => l.startsWith('+ virsh'));
    expect(processes).toHaveLength(3);
    expect(processes[2]).toMatch(/\(reading its input in rounds\)$/);
    expect(r.stderr.split('\n').filter((l) => l.startsWith("< 'dumpxml' '--domain' 'e2e-users-vm"))).toHaveLength(COUNT);
    const json = await runJson(['volume', 'list', '--pool', POOL]);
    expect(json).toHaveLength(COUNT);
  }, 120_000);

  it('the table shows the same users without reading any VM XML', async () => {
    const r = await run(['-v', 'volume', 'list', '--pool', POOL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${POOL}\\s+${volName(7)} .* ${vmName(7)} \\(shutoff, vda\\)$`, 'm'));
    const processes = r.stderr.split('\n').filter((l) => l.startsWith('+ virsh'));
    expect(processes).toHaveLength(2);
  }, 120_000);
});
