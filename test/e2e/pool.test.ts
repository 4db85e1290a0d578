/**
 * kvmctl pool against the lab host: real pools in the lab's pools/ folder,
 * checked with virsh; every refusal leaves libvirt and the files as they were.
 */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, virsh } from './lab.js';
import { run, runJson } from './storage-run.js';
import { hashFiles, snapshotHost } from './host-state.js';

const PREFIX = 'e2e-pool';
const poolsDir = () => join(lab.dir, 'pools');
const dirOf = (name: string) => join(poolsDir(), name);
const DIRS = ['a', 'b', 'c', 'dry'].map((s) => `${PREFIX}-${s}`);

function cleanup(): void {
  for (const name of virsh('pool-list', '--all', '--name').stdout.split('\n').map((l) => l.trim())) {
    if (!name.startsWith(PREFIX)) continue;
    virsh('pool-destroy', '--pool', name);
    virsh('pool-undefine', '--pool', name);
  }
  for (const name of [...DIRS, `${PREFIX}-link`, `${PREFIX}-outside`, `${PREFIX}-odd`]) rmSync(dirOf(name), { recursive: true, force: true });
}

/** libvirt's pools, volumes and domains, and every file in this test's pool directories (sha256). */
const storageState = () => snapshotHost({ dirs: DIRS.map(dirOf), netns: '' });

const poolInfo = (name: string) => {
  const r = virsh('pool-info', '--pool', name);
  return r.code === 0 ? Object.fromEntries([...r.stdout.matchAll(/^(\w+):\s*(.*)$/gm)].map((m) => [m[1], m[2]])) : undefined;
};

describe('kvmctl pool (against the lab host)', () => {
  beforeAll(cleanup);
  afterAll(cleanup);

  it('create makes a running, autostarted dir pool; the same again is "unchanged"; another path is exit 4', async () => {
    const a = `${PREFIX}-a`;
    const r = await run(['pool', 'create', a, '--type', 'dir', '--path', dirOf(a)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`storage pool ${a} created (dir, ${dirOf(a)}), started, autostart on\n`);
    expect(poolInfo(a)).toMatchObject({ State: 'running', Autostart: 'yes', Persistent: 'yes' });
    expect(existsSync(dirOf(a))).toBe(true);

    const again = await run(['pool', 'create', a, '--path', dirOf(a)]);
    expect(again).toMatchObject({ code: 0, stdout: `storage pool ${a} already exists as asked: unchanged\n` });

    const before = storageState();
    const other = await run(['pool', 'create', a, '--path', dirOf(`${PREFIX}-b`)]);
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(/storage pool e2e-pool-a already exists with another definition \(target path: .*e2e-pool-a -> .*e2e-pool-b\)/);
    const clash = await run(['pool', 'create', `${PREFIX}-b`, '--path', dirOf(a)]);
    expect(clash.code).toBe(4);
    expect(clash.stderr).toMatch(/storage pool e2e-pool-a already uses/);
    expect(storageState()).toEqual(before);
  });

  it('--print-xml and --dry-run change nothing; --dry-run prints the exact virsh argv and the XML', async () => {
    const name = `${PREFIX}-dry`;
    const before = storageState();
    const xml = await run(['pool', 'create', name, '--path', dirOf(name), '--print-xml']);
    expect(xml).toMatchObject({ code: 0, stdout: `<pool type="dir">\n  <name>${name}</name>\n  <target>\n    <path>${dirOf(name)}</path>\n  </target>\n</pool>\n` });
    const dry = await run(['pool', 'create', name, '--path', dirOf(name), '--dry-run']);
    expect(dry.code).toBe(0);
    const lines = dry.stderr.split('\n').filter((l) => l.startsWith('[dry-run] would run:')).map((l) => l.replace(/^.* -c \S+ /, ''));
    expect(lines).toEqual(['pool-define --file /dev/stdin', `pool-build --pool ${name}`, `pool-start --pool ${name}`, `pool-autostart --pool ${name}`]);
    expect(dry.stderr).toContain(`<name>${name}</name>`);
    expect(dry.stdout).toMatch(/\(dry run: nothing was changed\)\n$/);
    expect(storageState()).toEqual(before);
    expect(poolInfo(name)).toBeUndefined();
  });

  it.each([
    ['a relative path', ['--path', 'relative/dir'], /not absolute/],
    ['a path with ..', ['--path', '/var/tmp/../etc/x'], /'\.' or '\.\.' components/],
    ['a system directory', ['--path', '/usr/local/pool'], /inside \/usr, a system directory/],
    ['a bad name', ['--path', '/var/tmp/x', '--source-host', 'h'], /--source-host does not apply to a dir pool/],
  ])('%s is exit 2 and defines nothing', async (_what, args, message) => {
    const before = storageState();
    const r = await run(['pool', 'create', `${PREFIX}-c`, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(storageState()).toEqual(before);
  });

  it('a path through a symlink into /etc is exit 2', async () => {
    const link = dirOf(`${PREFIX}-link`);
    symlinkSync('/etc', link);
    const r = await run(['pool', 'create', `${PREFIX}-c`, '--path', join(link, 'pool')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/leads through a symlink to \/etc\/pool, and it is inside \/etc, a system directory/);
    expect(poolInfo(`${PREFIX}-c`)).toBeUndefined();
  });

  it('list and info, as tables and as JSON, agree with virsh', async () => {
    const a = `${PREFIX}-a`;
    const table = await run(['pool', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${a}\\s+dir\\s+running\\s+yes\\s+${dirOf(a)}\\s+\\S+ \\w?i?B\\s+`, 'm'));
    const pools = await runJson<Array<{ name: string; capacityBytes: number; volumeCount: number }>>(['pool', 'list']);
    const mine = pools.find((p) => p.name === a)!;
    const xml = virsh('pool-dumpxml', '--pool', a).stdout;
    expect(mine.capacityBytes).toBe(Number(/<capacity unit='bytes'>(\d+)</.exec(xml)![1]));
    expect(mine.volumeCount).toBe(0);
    const info = await runJson(['pool', 'info', a]);
    expect(info).toMatchObject({ name: a, type: 'dir', state: 'active', autostart: true, targetPath: dirOf(a), volumes: [] });
    expect((await run(['pool', 'info', `${PREFIX}-none`]))).toMatchObject({ code: 3, stderr: expect.stringMatching(/storage pool "e2e-pool-none" not found/) });
  });

  it("pool list counts the volumes of pools named with quotes, a backslash, a space or ';' right (each holds one)", async () => {
    const names = [`${PREFIX}-odd"q`, `${PREFIX}-odd'q`, `${PREFIX}-odd;echo x`, `${PREFIX}-odd\\sl`, `${PREFIX}-odd sp`];
    names.forEach((name, i) => {
      const dir = join(dirOf(`${PREFIX}-odd`), String(i));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'only.img'), Buffer.alloc(512));
      expect(virsh('pool-define-as', '--name', name, '--type', 'dir', '--target', dir).code).toBe(0);
      expect(virsh('pool-start', '--pool', name).code).toBe(0);
    });
    const pools = await runJson<Array<{ name: string; volumeCount: number | null }>>(['pool', 'list']);
    expect(names.map((n) => pools.find((p) => p.name === n)?.volumeCount)).toEqual(names.map(() => 1));
  });

  it('stop, start, refresh and autostart --disable, each "unchanged" when already so', async () => {
    const a = `${PREFIX}-a`;
    expect((await run(['pool', 'stop', a])).code).toBe(0);
    expect(poolInfo(a)?.State).toBe('inactive');
    expect((await run(['pool', 'stop', a])).stdout).toMatch(/already stopped: unchanged/);
    expect((await run(['pool', 'refresh', a])).code).toBe(5);
    expect((await run(['pool', 'start', a])).code).toBe(0);
    expect(poolInfo(a)?.State).toBe('running');
    expect((await run(['pool', 'start', a])).stdout).toMatch(/already running: unchanged/);
    expect((await run(['pool', 'refresh', a])).code).toBe(0);
    expect((await run(['pool', 'autostart', a, '--disable'])).code).toBe(0);
    expect(poolInfo(a)?.Autostart).toBe('no');
    expect((await run(['pool', 'autostart', a])).code).toBe(0);
    expect(poolInfo(a)?.Autostart).toBe('yes');
  });

  it('delete refuses a pool with volumes (exit 5, files byte-identical); --force keeps the files; --purge removes only the volumes', async () => {
    const b = `${PREFIX}-b`;
    expect((await run(['pool', 'create', b, '--path', dirOf(b)])).code).toBe(0);
    expect((await run(['volume', 'create', 'one.qcow2', '--pool', b, '--size', '16M'])).code).toBe(0);
    expect((await run(['volume', 'create', 'two.raw', '--pool', b, '--size', '1M', '--format', 'raw'])).code).toBe(0);
    const files = hashFiles(dirOf(b));

    const refused = await run(['pool', 'delete', b]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/storage pool e2e-pool-b holds 2 volume\(s\): one\.qcow2, two\.raw/);
    expect(hashFiles(dirOf(b))).toEqual(files);
    expect(poolInfo(b)?.State).toBe('running');

    const kept = await run(['pool', 'delete', b, '--force']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toMatch(/deleted, its 2 volume file\(s\) kept/);
    expect(poolInfo(b)).toBeUndefined();
    expect(hashFiles(dirOf(b))).toEqual(files);

    // Define it again over the same files, then purge: the volumes and the emptied directory go.
    expect((await run(['pool', 'create', b, '--path', dirOf(b)])).code).toBe(0);
    const purged = await run(['pool', 'delete', b, '--force', '--purge']);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toMatch(/2 volume\(s\) deleted; .* was removed/);
    expect(existsSync(dirOf(b))).toBe(false);
  });

  it('--purge deletes image volumes only: a subdirectory (which libvirt lists as a volume) and its files stay', async () => {
    const b = `${PREFIX}-b`;
    expect((await run(['pool', 'create', b, '--path', dirOf(b)])).code).toBe(0);
    mkdirSync(join(dirOf(b), 'keep'), { recursive: true });
    writeFileSync(join(dirOf(b), 'keep', 'notes.txt'), 'mine\n');
    expect((await run(['volume', 'create', 'v.qcow2', '--pool', b, '--size', '1M'])).code).toBe(0);
    expect((await run(['pool', 'refresh', b])).code).toBe(0);
    expect((await run(['volume', 'delete', `${b}/keep`]))).toMatchObject({ code: 5, stderr: expect.stringMatching(/is a directory, not a disk image/) });
    const r = await run(['pool', 'delete', b, '--force', '--purge']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 volume\(s\) deleted \(subdirectories kept: keep\); .* was kept: .*Directory not empty/);
    expect(existsSync(join(dirOf(b), 'keep', 'notes.txt'))).toBe(true);
    expect(existsSync(join(dirOf(b), 'v.qcow2'))).toBe(false);
  });

  it('--purge removes a volume that is a symlink as the link: the file it points to, outside the pool, stays byte-identical', async () => {
    const c = `${PREFIX}-c`;
    const outside = dirOf(`${PREFIX}-outside`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'target.img'), 'not a volume of any pool\n');
    const before = hashFiles(outside);
    expect((await run(['pool', 'create', c, '--path', dirOf(c)])).code).toBe(0);
    expect((await run(['volume', 'create', 'v.qcow2', '--pool', c, '--size', '1M'])).code).toBe(0);
    symlinkSync(join(outside, 'target.img'), join(dirOf(c), 'link.img'));
    expect((await run(['pool', 'refresh', c])).code).toBe(0);
    expect(virsh('vol-list', '--pool', c).stdout).toMatch(/link\.img/);
    const r = await run(['-v', 'pool', 'delete', c, '--force', '--purge']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 volume\(s\) deleted; .* was removed/);
    // Removed by kvmctl itself (rm of the pool's files), not one vol-delete per volume.
    expect(r.stderr).toMatch(/^\+ rm -f -- .*\/link\.img/m);
    expect(existsSync(dirOf(c))).toBe(false);
    expect(hashFiles(outside)).toEqual(before);
  });
});
