/**
 * Storage commands against one pool of 5000 volumes on the lab host: every
 * command that reads all volumes once failed here with E2BIG (all lookups went
 * into one virsh argument). The volumes are empty files made straight in the
 * pool directory, then seen by libvirt through the pool's start (a refresh).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineDiskVm, KVMCTL, lab, virsh } from './lab.js';
import { run, runJson } from './storage-run.js';
import { snapshotHost } from './host-state.js';
import { parseOutput } from '../support/schemas.js';

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
  defineDiskVm(VM, disk, 'raw', join(lab.dir, 'pools'));
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

  it('pool delete --force --purge deletes every volume in a few processes (rm of the local pool\'s files), then the pool and its directory', async () => {
    const r = await run(['-v', 'pool', 'delete', BIG, '--force', '--purge']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^storage pool ${BIG} deleted, ${COUNT - 2} volume\\(s\\) deleted; .* was removed\\n$`));
    // -v prints each program kvmctl ran: the deletions go in batches, never one process per volume.
    const deletes = r.stderr.split('\n').filter((l) => l.startsWith(`+ rm -f -- ${dirOf(BIG)}/`) || (l.startsWith('+ virsh') && l.includes('vol-delete')));
    expect(deletes.length).toBeGreaterThan(1);
    expect(deletes.length).toBeLessThanOrEqual(Math.ceil((COUNT - 2) / 250));
    expect(virsh('pool-info', '--pool', BIG).code).not.toBe(0);
    expect(existsSync(dirOf(BIG))).toBe(false);
  });
});

const KINDS = 'e2e-scale-kinds';

function sh(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** What libvirt's own vol-dumpxml says of a volume, in the JSON shape kvmctl prints. */
function libvirtView(pool: string, name: string) {
  const r = virsh('vol-dumpxml', '--pool', pool, '--vol', name);
  if (r.code !== 0) throw new Error(`vol-dumpxml ${name}: ${r.stderr}`);
  const x = r.stdout;
  const target = /<target>([\s\S]*?)<\/target>/.exec(x)?.[1] ?? '';
  const backing = /<backingStore>([\s\S]*?)<\/backingStore>/.exec(x)?.[1];
  return {
    name,
    type: /<volume type='([^']*)'/.exec(x)?.[1],
    key: /<key>([^<]*)<\/key>/.exec(x)?.[1],
    path: /<path>([^<]*)<\/path>/.exec(target)?.[1],
    format: /<format type='([^']*)'/.exec(target)?.[1],
    capacityBytes: Number(/<capacity unit='bytes'>(\d+)</.exec(x)?.[1]),
    allocationBytes: Number(/<allocation unit='bytes'>(\d+)</.exec(x)?.[1]),
    // Absence is null (docs/json.md): no backing store is backingFile and backingFormat null.
    backingFile: backing === undefined ? null : /<path>([^<]*)<\/path>/.exec(backing)?.[1],
    backingFormat: backing === undefined ? null : /<format type='([^']*)'/.exec(backing)?.[1],
  };
}

describe('volume list of a local directory pool reads what libvirt would say from the files themselves', () => {
  const dir = () => dirOf(KINDS);
  const at = (n: string) => join(dir(), n);
  const clean = () => {
    virsh('pool-destroy', '--pool', KINDS);
    virsh('pool-undefine', '--pool', KINDS);
    rmSync(dir(), { recursive: true, force: true });
    rmSync(`${dir()}-iso`, { recursive: true, force: true });
  };
  beforeAll(() => {
    clean();
    mkdirSync(dir(), { recursive: true });
    closeSync(openSync(at('empty.img'), 'wx'));
    writeFileSync(at('data.img'), Buffer.alloc(4096, 'x'));
    truncateSync(at('data.img'), 8 * 2 ** 20);
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', at('plain.qcow2'), '10M');
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', at('plain.qcow2'), '-F', 'qcow2', at('abs.qcow2'), '10M');
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'plain.qcow2', '-F', 'qcow2', at('rel.qcow2'), '20M');
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'data.img', '-F', 'raw', at('rawback.qcow2'), '8M');
    // An overlay whose header does not name its backing file's format (the extension renamed to one nobody knows).
    sh('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'plain.qcow2', '-F', 'qcow2', at('nofmt.qcow2'), '10M');
    const fd = openSync(at('nofmt.qcow2'), 'r+');
    const hdr = Buffer.alloc(4096);
    readSync(fd, hdr, 0, 4096, 0);
    const ext = hdr.readUInt32BE(100);
    hdr.writeUInt32BE(0x0badf00d, ext);
    writeSync(fd, hdr, ext, 4, ext);
    closeSync(fd);
    sh('qemu-img', 'create', '-q', '-f', 'vmdk', at('x.vmdk'), '4M');
    mkdirSync(`${dir()}-iso`);
    writeFileSync(join(`${dir()}-iso`, 'hello.txt'), 'hello\n');
    sh('genisoimage', '-quiet', '-o', at('disk.iso'), `${dir()}-iso`);
    symlinkSync(at('data.img'), at('link.img'));
    sh('mkfifo', at('fifo'));
    mkdirSync(at('sub'));
    definePool(KINDS);
  });
  afterAll(clean);

  it('every field matches vol-dumpxml, and libvirt is asked only about what kvmctl cannot read safely', async () => {
    const r = await run(['-v', 'volume', 'list', '--pool', KINDS, '-o', 'json']);
    expect(r.code).toBe(0);
    const listed = parseOutput(['volume', 'list'], r.stdout) as Array<Record<string, unknown>>;
    const names = virshVolumes(KINDS);
    expect(names).toEqual(expect.arrayContaining(['abs.qcow2', 'data.img', 'disk.iso', 'empty.img', 'nofmt.qcow2', 'plain.qcow2', 'rawback.qcow2', 'rel.qcow2', 'x.vmdk']));
    expect(listed.map((v) => v.name).sort()).toEqual(names);
    expect(listed.find((v) => v.name === 'rel.qcow2')).toMatchObject({ format: 'qcow2', capacityBytes: 20 * 2 ** 20, backingFile: at('plain.qcow2'), backingFormat: 'qcow2' });
    expect(listed.find((v) => v.name === 'data.img')).toMatchObject({ format: 'raw', capacityBytes: 8 * 2 ** 20 });
    for (const name of names) {
      const { users, dependents, pool, ...mine } = listed.find((v) => v.name === name) as Record<string, unknown>;
      void users;
      void dependents;
      expect(pool).toBe(KINDS);
      const theirs = Object.fromEntries(Object.entries(libvirtView(KINDS, name)).filter(([, v]) => v !== undefined));
      expect(mine, name).toEqual(theirs);
    }
    // -v prints the batch: vol-dumpxml only for the iso, the vmdk, the overlay without a backing format,
    // the symlink and the subdirectory; no FIFO is ever opened (libvirt does not list it).
    const batches = r.stderr.split('\n').filter((l) => l.startsWith('+ virsh') && l.includes('vol-dumpxml')).join('\n');
    const asked = names.filter((n) => batches.includes(`'\\''${n}'\\''`));
    expect(asked).toEqual(['disk.iso', 'link.img', 'nofmt.qcow2', 'sub', 'x.vmdk'].filter((n) => names.includes(n)));
    expect(names).not.toContain('fifo');
  });
});

describe('pool delete --purge on a terminal', () => {
  const POOL = 'e2e-scale-tty';
  const clean = () => {
    virsh('pool-destroy', '--pool', POOL);
    virsh('pool-undefine', '--pool', POOL);
    rmSync(dirOf(POOL), { recursive: true, force: true });
  };
  beforeAll(() => {
    clean();
    mkdirSync(dirOf(POOL), { recursive: true });
    for (let i = 0; i < 1000; i++) closeSync(openSync(join(dirOf(POOL), volName(i)), 'wx'));
    definePool(POOL);
  });
  afterAll(clean);

  it('shows how many volumes are deleted so far, then the result', () => {
    // script(1) gives kvmctl a pseudo-terminal of a known width, as a sysadmin's session would. setsid takes
    // the controlling terminal away only, so virsh does not start a polkit agent the lab has no polkit for.
    const inner = ['stty cols 120 rows 40;', 'exec', 'setsid', '-w', 'ip', 'netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, 'pool', 'delete', POOL, '--force', '--purge']
      .map((w, i) => (i < 4 ? w : `'${w.replace(/'/g, `'\\''`)}'`))
      .join(' ');
    const r = spawnSync('script', ['-qec', inner, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '' }, timeout: 170_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleting the volumes of storage pool ${POOL}: \\d+ of 1000`));
    expect(r.stdout).toMatch(new RegExp(`storage pool ${POOL} deleted, 1000 volume\\(s\\) deleted`));
    expect(existsSync(dirOf(POOL))).toBe(false);
  });
});
