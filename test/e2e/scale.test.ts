/**
 * Storage commands against one pool of 5000 volumes on the lab host: every
 * command that reads all volumes once failed here with E2BIG (all lookups went
 * into one virsh argument). The volumes are empty files made straight in the
 * pool directory, then seen by libvirt through the pool's start (a refresh).
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, virsh } from './lab.js';
import { run, runJson } from './storage-run.js';
import { snapshotHost } from './host-state.js';

const COUNT = 5000;
const BIG = 'e2e-scale';
const SMALL = 'e2e-scale-small';
const VM = 'e2e-scale-vm';
const dirOf = (pool: string) => join(lab.dir, 'pools', pool);
const volName = (i: number) => `v${String(i).padStart(5, '0')}.img`;

/** Volume names of a pool as virsh lists them. */
function virshVolumes(pool: string): string[] {
  const r = virsh('vol-list', '--pool', pool);
  if (r.code !== 0) throw new Error(`vol-list ${pool}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n))
    .sort();
}

function definePool(pool: string): void {
  const def = virsh('pool-define-as', '--name', pool, '--type', 'dir', '--target', dirOf(pool));
  if (def.code !== 0) throw new Error(`pool-define-as ${pool}: ${def.stderr}`);
  const start = virsh('pool-start', '--pool', pool);
  if (start.code !== 0) throw new Error(`pool-start ${pool}: ${start.stderr}`);
}

function defineVm(disk: string): void {
  const xml = `<domain type='qemu'>
  <name>${VM}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`;
  const file = join(lab.dir, 'pools', `${VM}.xml`);
  writeFileSync(file, xml);
  const r = virsh('define', '--file', file);
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`virsh define: ${r.stderr}`);
}

function cleanup(): void {
  virsh('undefine', '--domain', VM);
  for (const pool of [BIG, SMALL]) {
    virsh('pool-destroy', '--pool', pool);
    virsh('pool-undefine', '--pool', pool);
    rmSync(dirOf(pool), { recursive: true, force: true });
  }
}

describe(`storage commands with ${COUNT} volumes in one pool (against the lab host)`, () => {
  beforeAll(() => {
    cleanup();
    mkdirSync(dirOf(BIG), { recursive: true });
    for (let i = 0; i < COUNT; i++) closeSync(openSync(join(dirOf(BIG), volName(i)), 'wx'));
    definePool(BIG);
    mkdirSync(dirOf(SMALL), { recursive: true });
    for (const n of ['a.img', 'b.img']) closeSync(openSync(join(dirOf(SMALL), n), 'wx'));
    definePool(SMALL);
    defineVm(join(dirOf(BIG), volName(1)));
  });
  afterAll(cleanup);

  it('volume list shows every volume of every pool, and who uses them', async () => {
    const all = await runJson<Array<{ pool: string; name: string; format: string; capacityBytes: number; users: Array<{ vm: string }> }>>(['volume', 'list']);
    const big = all.filter((v) => v.pool === BIG);
    expect(big.map((v) => v.name).sort()).toEqual(virshVolumes(BIG));
    expect(big).toHaveLength(COUNT);
    expect(all.filter((v) => v.pool === SMALL).map((v) => v.name).sort()).toEqual(['a.img', 'b.img']);
    expect(big.every((v) => v.format === 'raw' && v.capacityBytes === 0)).toBe(true);
    expect(big.find((v) => v.name === volName(1))?.users.map((u) => u.vm)).toEqual([VM]);

    const table = await run(['volume', 'list']);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    expect(table.stdout.split('\n').filter((l) => l.startsWith(`${BIG} `))).toHaveLength(COUNT);
  });

  it('volume list --pool and pool info list the big pool whole', async () => {
    const listed = await runJson<Array<{ name: string }>>(['volume', 'list', '--pool', BIG]);
    expect(listed.map((v) => v.name).sort()).toEqual(virshVolumes(BIG));
    const info = await runJson<{ name: string; volumeCount: number; volumes: Array<{ name: string }> }>(['pool', 'info', BIG]);
    expect(info.volumeCount).toBe(COUNT);
    expect(info.volumes.map((v) => v.name).sort()).toEqual(virshVolumes(BIG));
    const pools = await runJson<Array<{ name: string; volumeCount: number }>>(['pool', 'list']);
    expect(pools.find((p) => p.name === BIG)?.volumeCount).toBe(COUNT);
  });

  it('pool delete of another pool works while the big one exists, and leaves it alone', async () => {
    const r = await run(['pool', 'delete', SMALL, '--force', '--purge']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^storage pool ${SMALL} deleted, 2 volume\\(s\\) deleted; .* was removed\\n$`));
    expect(virsh('pool-info', '--pool', SMALL).code).not.toBe(0);
    expect(existsSync(dirOf(SMALL))).toBe(false);
    expect(virshVolumes(BIG)).toHaveLength(COUNT);
  });

  it('volume delete removes one volume of the big pool and nothing else', async () => {
    const r = await run(['volume', 'delete', `${BIG}/${volName(2)}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(dirOf(BIG), volName(2)))).toBe(false);
    expect(virshVolumes(BIG)).toHaveLength(COUNT - 1);
    expect(readdirSync(dirOf(BIG))).toHaveLength(COUNT - 1);
  });

  it('vm delete --remove-storage removes the VM and its one volume of the big pool', async () => {
    const r = await run(['vm', 'delete', VM, '--remove-storage']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`removed ${BIG}/${volName(1)}`);
    expect(virsh('dominfo', '--domain', VM).code).not.toBe(0);
    expect(existsSync(join(dirOf(BIG), volName(1)))).toBe(false);
    expect(virshVolumes(BIG)).toHaveLength(COUNT - 2);
  });

  it('pool delete of the big pool without --force is refused (exit 5) with a readable message, and changes nothing', async () => {
    const before = snapshotHost({ dirs: [dirOf(BIG)], netns: '' });
    const r = await run(['pool', 'delete', BIG]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`storage pool ${BIG} holds ${COUNT - 2} volume\\(s\\): v00000\\.img, v00003\\.img, .* and ${COUNT - 12} more`));
    expect(r.stderr.length).toBeLessThan(2000);
    expect(snapshotHost({ dirs: [dirOf(BIG)], netns: '' })).toEqual(before);
  });

  it('pool delete --force --purge deletes every volume in a few virsh processes, then the pool and its directory', async () => {
    const r = await run(['-v', 'pool', 'delete', BIG, '--force', '--purge']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^storage pool ${BIG} deleted, ${COUNT - 2} volume\\(s\\) deleted; .* was removed\\n$`));
    // -v prints each program kvmctl ran: the deletions go in batches, never one process per volume.
    const deletes = r.stderr.split('\n').filter((l) => l.startsWith('+ virsh') && l.includes('vol-delete'));
    expect(deletes.length).toBeGreaterThan(1);
    expect(deletes.length).toBeLessThanOrEqual(Math.ceil((COUNT - 2) / 250));
    expect(virsh('pool-info', '--pool', BIG).code).not.toBe(0);
    expect(existsSync(dirOf(BIG))).toBe(false);
  });
});
