/**
 * The host's files and disks are never at risk: attacks a careless or hostile
 * user could make with pools, VM disks, log directories and input files,
 * against the lab. Each refusal asserts the exit code, the message, and a
 * host snapshot taken before and after: libvirt's objects, the test pool's
 * files with checksums, and a signature (checksum, entries, owner, mode) of
 * every path outside the pools that the attack aimed at. Where an attack
 * needs "a host file", it aims at a decoy under a temporary directory; real
 * system paths appear only in refusals that read nothing from them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL } from '../lab.js';
import { cli, cliOk, lab, newStateDir, removeStateDirs, snapshotHost, virsh, type HostState, createPool, removePool } from './harness.js';
import { parseOutput } from '../../support/schemas.js';

const POOL = 'rel-hostfiles';
const MISSING_POOL = 'rel-hostfiles-gone';
const poolDir = () => join(lab.dir, 'pools', POOL);
const missingDir = () => join(lab.dir, 'pools', MISSING_POOL);
const decoys = mkdtempSync(join(tmpdir(), 'kvmctl-hostfiles-'));
const guest = (f: string) => join(lab.guestDir, f);
const VMS = ['relf-a', 'relf-b', 'relf-c', 'relf-share', 'relf-over', 'relf-base-user'];

let stateDir = '';
const o = () => ({ stateDir });

/** The block device that holds this machine's root filesystem, read from /proc/self/mountinfo and sysfs. */
function rootDevice(): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[4] === '/');
  const devname = /^DEVNAME=(.*)$/m.exec(readFileSync(`/sys/dev/block/${line?.[2]}/uevent`, 'utf8'))?.[1];
  if (!devname) throw new Error('could not find the block device of /');
  return `/dev/${devname}`;
}

function snapshot(paths: string[] = []): HostState {
  return snapshotHost({ dirs: [poolDir(), decoys], netns: '', paths });
}

/** Runs the attack, then requires the exit code, the message and an unchanged host. */
async function refused(args: string[], code: number, why: RegExp, paths: string[] = []): Promise<string> {
  const before = snapshot(paths);
  const r = await cli(args, o());
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(why) });
  expect(snapshot(paths)).toEqual(before);
  return r.stderr;
}

function defineVm(name: string, disk: string, format = 'raw'): void {
  const file = join(decoys, `${name}.xml`);
  writeFileSync(
    file,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${guest('vmlinuz')}</kernel><initrd>${guest('initrd.img')}</initrd><cmdline>console=ttyS0</cmdline></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk><serial type='pty'/><console type='pty'/></devices>
</domain>`,
  );
  const r = virsh('define', '--file', file);
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`define ${name}: ${r.stderr}`);
}

function cleanup(): void {
  for (const vm of VMS) {
    virsh('destroy', '--domain', vm);
    virsh('undefine', '--domain', vm);
  }
  removePool(POOL, poolDir());
  removePool(MISSING_POOL, missingDir());
}

describe('host files and disks are never at risk (against the lab)', () => {
  beforeAll(async () => {
    cleanup();
    stateDir = newStateDir();
    await createPool(POOL, poolDir(), o());
    await cliOk(['volume', 'create', 'relf-a.raw', '--pool', POOL, '--size', '8M', '--format', 'raw'], o());
    defineVm('relf-a', join(poolDir(), 'relf-a.raw'));
  });
  afterAll(() => {
    cleanup();
    rmSync(decoys, { recursive: true, force: true });
    removeStateDirs();
  });

  describe('pools stay out of system and user directories', () => {
    it.each([
      ['/root', /invalid --path "\/root": it is inside \/root, a system directory/],
      ['/home', /invalid --path "\/home": it is \/home itself, which holds other directories/],
      ['/var', /invalid --path "\/var": it is \/var itself/],
      ['/var/lib/dpkg', /inside \/var\/lib\/dpkg, a system directory/],
      ['/var/spool/cron', /inside \/var\/spool, a system directory/],
      ['/root/.ssh', /inside \/root, a system directory/],
      ['/home/someone/.ssh', /inside a \.ssh directory, which holds keys/],
    ])('pool create --path %s: exit 2, nothing defined or made', async (path, why) => {
      const stderr = await refused(['pool', 'create', 'relf-p', '--path', path], 2, why, [path]);
      expect(stderr).toMatch(/hint: use a directory meant for data/);
    });

    it("kvmctl's own state directory, and a symlink that leads to it or to /root/.ssh: exit 2", async () => {
      await refused(['pool', 'create', 'relf-p', '--path', stateDir], 2, new RegExp(`it holds kvmctl's own state`), [stateDir]);
      const toSsh = join(decoys, 'innocent-ssh');
      const toState = join(decoys, 'innocent-state');
      symlinkSync('/root/.ssh', toSsh);
      symlinkSync(stateDir, toState);
      await refused(['pool', 'create', 'relf-p', '--path', toSsh], 2, /it leads through a symlink to \/root\/\.ssh, and it is inside \/root, a system directory/, ['/root/.ssh']);
      await refused(['pool', 'create', 'relf-p', '--path', join(toState, 'pools')], 2, /it leads through a symlink to .*, and it holds kvmctl's own state/, [stateDir]);
      rmSync(toSsh);
      rmSync(toState);
    });

    it('pool delete --force --purge deletes only the pool\'s volumes and says what it left', async () => {
      const dir = missingDir();
      mkdirSync(join(dir, 'keep'), { recursive: true });
      writeFileSync(join(dir, 'keep', 'notes.txt'), 'not a volume\n');
      writeFileSync(join(dir, '.hidden'), 'not listed by libvirt\n');
      await cliOk(['pool', 'create', MISSING_POOL, '--path', dir], o());
      await cliOk(['volume', 'create', 'v.raw', '--pool', MISSING_POOL, '--size', '1M', '--format', 'raw'], o());
      const keep = [join(dir, 'keep', 'notes.txt'), join(dir, '.hidden')];
      const before = snapshotHost({ netns: '', paths: keep });
      const r = await cliOk(['pool', 'delete', MISSING_POOL, '--force', '--purge'], o());
      expect(r.stdout).toMatch(new RegExp(`storage pool ${MISSING_POOL} deleted, 1 volume\\(s\\) deleted \\(subdirectories kept: keep\\) \\(hidden files kept: \\.hidden\\); ${dir} was kept: .*Directory not empty\n$`));
      const after = snapshotHost({ netns: '', paths: keep });
      expect(after.files).toEqual(before.files);
      expect(Object.keys(after.pools)).not.toContain(MISSING_POOL);
      expect(Object.keys(after.volumes).filter((v) => v.startsWith(`${MISSING_POOL}/`))).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('pool lifecycle tells the truth', () => {
    it('a pool whose directory was removed: create is not "unchanged" and start is exit 5, both saying how to fix it', async () => {
      const dir = missingDir();
      rmSync(dir, { recursive: true, force: true });
      await cliOk(['pool', 'create', MISSING_POOL, '--path', dir, '--no-autostart'], o());
      await cliOk(['pool', 'stop', MISSING_POOL], o());
      rmdirSync(dir);
      const fix = new RegExp(`hint: re-create the directory: mkdir -p -m 0711 -- ${dir}, then run: kvmctl (-c '[^']+' )?pool start ${MISSING_POOL}`);
      const why = new RegExp(`error: storage pool ${MISSING_POOL}: its directory ${dir} does not exist \\(removed outside kvmctl\\?\\), so the pool cannot run\\n${fix.source}`);
      await refused(['pool', 'create', MISSING_POOL, '--path', dir, '--no-autostart'], 5, why, [dir]);
      await refused(['pool', 'start', MISSING_POOL], 5, why, [dir]);
      mkdirSync(dir, { mode: 0o711 });
      expect((await cliOk(['pool', 'start', MISSING_POOL], o())).stdout).toBe(`storage pool ${MISSING_POOL} started\n`);
      await cliOk(['pool', 'delete', MISSING_POOL, '--force', '--purge'], o());
    });
  });

  describe('a declared format is never re-probed', () => {
    it('a raw import whose bytes are a qcow2 header naming a host file: clone, convert, snapshot, resize, an overlay on it, vm create (--image, --disk vol=) and vm clone are exit 5; info shows the name and does not read it', async () => {
      const hostFile = join(decoys, 'host-secret');
      writeFileSync(hostFile, 'decoy secret\n');
      const evil = join(decoys, 'evil.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', hostFile, '-F', 'raw', '-u', evil, '1M']);
      await cliOk(['volume', 'import', evil, '--pool', POOL, '--name', 'relf-evil.img', '--format', 'raw', '--to', 'raw'], o());
      await cliOk(['pool', 'refresh', POOL], o());
      const vol = `${POOL}/relf-evil.img`;
      const why = (action: string) => new RegExp(`error: volume ${POOL}/relf-evil\\.img has a header naming ${hostFile}, which is no volume of any pool: kvmctl does not ${action} through it`);
      await refused(['volume', 'clone', vol, 'relf-evil-copy.img'], 5, why('copy'), [hostFile]);
      await refused(['volume', 'convert', vol, '--to', 'qcow2'], 5, why('copy'), [hostFile]);
      await refused(['volume', 'snapshot', 'create', vol, 's1'], 5, why('write'), [hostFile]);
      // libvirt would resize it with qemu-img resize (no -f: it probes qcow2 and opens the backing file), and an overlay on it would be read through it.
      await refused(['volume', 'resize', vol, '+1M'], 5, why('resize'), [hostFile]);
      await refused(['volume', 'create', 'relf-ov.qcow2', '--pool', POOL, '--backing', vol], 5, why('read'), [hostFile]);
      await refused(['vm', 'create', 'relf-b', '--image', vol, '--network', 'none', '--no-start'], 5, why('attach'), [hostFile]);
      await refused(['vm', 'create', 'relf-b', '--boot', `kernel=${guest('vmlinuz')}`, '--network', 'none', '--no-start', '--disk', `vol=${vol}`], 5, why('attach'), [hostFile]);
      defineVm('relf-b', join(poolDir(), 'relf-evil.img'));
      await refused(['vm', 'clone', 'relf-b', 'relf-c'], 5, why('copy'), [hostFile]);
      virsh('undefine', '--domain', 'relf-b');
      const before = snapshot([hostFile]);
      const info = await cliOk(['volume', 'info', vol], o());
      expect(info.stdout).toMatch(new RegExp(`backing file\\s+${hostFile} \\(no volume of any pool: not read\\)`));
      expect(snapshot([hostFile])).toEqual(before);
      await cliOk(['volume', 'delete', vol], o());
    });
  });

  describe('symlinks do not lead out of a pool', () => {
    it('a volume that is a symlink to a file outside the pool: resize (grow or shrink), clone, convert, snapshot, vm create (--image, --disk vol=) and vm clone are exit 5; the outside file is unchanged', async () => {
      const outside = join(decoys, 'outside.img');
      writeFileSync(outside, Buffer.alloc(1024 * 1024, 0x5a));
      const link = join(poolDir(), 'relf-link.img');
      symlinkSync(outside, link);
      await cliOk(['pool', 'refresh', POOL], o());
      const vol = `${POOL}/relf-link.img`;
      const why = (action: string) => new RegExp(`error: volume ${vol.replace('/', '\\/')} leads to ${outside}, outside pool ${POOL}'s directory ${poolDir()}: kvmctl does not ${action} a file outside the pool\nhint: `);
      await refused(['volume', 'resize', vol, '+1M'], 5, why('resize'), [outside]);
      await refused(['volume', 'resize', vol, '512K', '--shrink'], 5, why('resize'), [outside]);
      await refused(['volume', 'clone', vol, 'relf-copy.img'], 5, why('copy'), [outside]);
      await refused(['volume', 'convert', vol, '--to', 'qcow2'], 5, why('copy'), [outside]);
      await refused(['volume', 'snapshot', 'create', vol, 's1'], 5, why('write'), [outside]);
      await refused(['vm', 'create', 'relf-b', '--image', vol, '--network', 'none', '--no-start'], 5, why('attach'), [outside]);
      await refused(['vm', 'create', 'relf-b', '--boot', `kernel=${guest('vmlinuz')}`, '--network', 'none', '--no-start', '--disk', `vol=${vol}`], 5, why('attach'), [outside]);
      defineVm('relf-b', link);
      await refused(['vm', 'clone', 'relf-b', 'relf-c'], 5, why('copy'), [outside]);
      virsh('undefine', '--domain', 'relf-b');
      rmSync(link);
      await cliOk(['pool', 'refresh', POOL], o());
    });
  });

  describe('untrusted images are inspected with limits', () => {
    it('an allowed vmdk whose extent is a FIFO (qemu-img would wait forever): exit 5 after the time limit, nothing imported', async () => {
      const dir = join(decoys, 'vmdk');
      mkdirSync(dir);
      execFileSync('mkfifo', [join(dir, 'extent')]);
      const desc = join(dir, 'desc.vmdk');
      writeFileSync(desc, '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n# Extent description\nRW 2048 FLAT "extent" 0\n');
      await refused(
        ['volume', 'import', desc, '--pool', POOL, '--name', 'relf-vmdk.raw', '--format', 'vmdk', '--to', 'raw', '--allow-external-refs'],
        5,
        /error: image .*desc\.vmdk: qemu-img could not read its header within the limits for an untrusted image \(1\.0 GiB of memory, 10 s of CPU, 20 s in all\): it was still running after 20 s\n/,
        [desc],
      );
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);
  });

  describe('backing chains are seen whole', () => {
    it("a base volume under another VM's overlay outside every pool: volume delete is exit 5, vm delete --remove-storage keeps it and says why", async () => {
      await cliOk(['volume', 'create', 'relf-base.qcow2', '--pool', POOL, '--size', '8M'], o());
      const base = join(poolDir(), 'relf-base.qcow2');
      const overlay = join(decoys, 'outside-overlay.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', overlay]);
      defineVm('relf-over', overlay, 'qcow2');
      await refused(['volume', 'delete', `${POOL}/relf-base.qcow2`, '--force'], 5, new RegExp(`error: volume ${POOL}/relf-base\\.qcow2 is in the backing chain of VM relf-over \\(disk ${overlay}\\); deleting it would break that disk\\nhint: `), [base, overlay]);

      defineVm('relf-base-user', base, 'qcow2');
      const before = snapshot([base, overlay]);
      const r = await cliOk(['vm', 'delete', 'relf-base-user', '--remove-storage'], o());
      expect(r.stdout).toContain(`kept ${POOL}/relf-base.qcow2: in the backing chain of VM relf-over (disk ${overlay})`);
      const after = snapshot([base, overlay]);
      expect(after.files).toEqual(before.files);
      expect(after.volumes).toEqual(before.volumes);
      expect(Object.keys(after.domains)).toEqual(Object.keys(before.domains).filter((d) => d !== 'relf-base-user'));

      virsh('undefine', '--domain', 'relf-over');
      await cliOk(['volume', 'delete', `${POOL}/relf-base.qcow2`], o());
      rmSync(overlay);
    });

    /** Pool MISSING_POOL holding relf-base.qcow2 (and the given raw volumes); VM relf-over's overlay outside every pool stands on it. */
    async function poolUnderOverlay(raws: string[]): Promise<{ dir: string; base: string; overlay: string }> {
      const dir = missingDir();
      mkdirSync(dir, { recursive: true });
      await cliOk(['pool', 'create', MISSING_POOL, '--path', dir], o());
      await cliOk(['volume', 'create', 'relf-base.qcow2', '--pool', MISSING_POOL, '--size', '8M'], o());
      for (const v of raws) await cliOk(['volume', 'create', v, '--pool', MISSING_POOL, '--size', '1M', '--format', 'raw'], o());
      const base = join(dir, 'relf-base.qcow2');
      const overlay = join(decoys, 'purge-overlay.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', overlay]);
      defineVm('relf-over', overlay, 'qcow2');
      return { dir, base, overlay };
    }

    function dropPoolUnderOverlay(dir: string, overlay: string): void {
      virsh('undefine', '--domain', 'relf-over');
      rmSync(overlay);
      rmSync(dir, { recursive: true, force: true });
    }

    it("pool delete --force --purge keeps a base volume under another VM's overlay outside every pool and names it", async () => {
      const { dir, base, overlay } = await poolUnderOverlay(['relf-spare.raw']);
      const before = snapshotHost({ netns: '', paths: [base, overlay] });
      const r = await cliOk(['pool', 'delete', MISSING_POOL, '--force', '--purge', '-o', 'json'], o());
      expect(parseOutput(['pool', 'delete'], r.stdout)).toMatchObject({ name: MISSING_POOL, changed: true, volumesDeleted: ['relf-spare.raw'], volumesKept: ['relf-base.qcow2'] });
      const table = await cli(['pool', 'delete', MISSING_POOL], o());
      expect(table.code).toBe(3);
      const after = snapshotHost({ netns: '', paths: [base, overlay] });
      expect(after.files).toEqual(before.files);
      expect(after.domains).toEqual(before.domains);
      expect(Object.keys(after.pools)).not.toContain(MISSING_POOL);
      expect(readFileSync(base).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
      dropPoolUnderOverlay(dir, overlay);
    });

    it('pool delete --force --purge names the kept base in its message', async () => {
      const { dir, overlay } = await poolUnderOverlay([]);
      const r = await cliOk(['pool', 'delete', MISSING_POOL, '--force', '--purge'], o());
      expect(r.stdout).toMatch(new RegExp(`storage pool ${MISSING_POOL} deleted, 0 volume\\(s\\) deleted \\(kept relf-base\\.qcow2: in the backing chain of VM relf-over \\(disk ${overlay}\\)\\); ${dir} was kept: `));
      dropPoolUnderOverlay(dir, overlay);
    });
  });

  describe('host devices and system files are not VM disks', () => {
    const create = (name: string, ...disk: string[]) => ['vm', 'create', name, '--boot', `kernel=${guest('vmlinuz')}`, '--network', 'none', '--no-start', ...disk.flatMap((d) => ['--disk', d])];

    it('the block device of the host root filesystem: exit 5, naming the mount', async () => {
      const dev = rootDevice();
      await refused(create('relf-b', `path=${dev},format=raw`), 5, new RegExp(`error: --disk path: the block device ${dev} is in use on this host: (it|its partition \\S+) is mounted at [^\\n]*/`), [dev]);
    });

    it.each([
      ['path=/etc/passwd,format=raw', /--disk path: "\/etc\/passwd" cannot be a VM disk: it is inside \/etc, a system directory/],
      ['path=/root/.ssh/authorized_keys,format=raw', /cannot be a VM disk: it is inside \/root, a system directory/],
      ['path=/dev/zero,format=raw', /"\/dev\/zero" cannot be a VM disk: it is not a block device/],
    ])('--disk %s: exit 2', async (disk, why) => {
      await refused(create('relf-b', disk), 2, why, [disk.replace(/^path=|,format=raw$/g, '')]);
    });

    it('a symlink to /etc/passwd: exit 2, naming where it leads', async () => {
      const link = join(decoys, 'disk.raw');
      symlinkSync('/etc/passwd', link);
      await refused(create('relf-b', `path=${link}`), 2, /it leads through a symlink to \/etc\/passwd, and it is inside \/etc, a system directory/, ['/etc/passwd']);
      rmSync(link);
    });

    it("another VM's disk, by path and by volume: exit 5; with shareable=yes the raw disk is shared on purpose", async () => {
      const disk = join(poolDir(), 'relf-a.raw');
      await refused(create('relf-b', `path=${disk}`), 5, /--disk path=.*relf-a\.raw is already a disk of VM relf-a \(shutoff\); two VMs writing one disk corrupt it\nhint: .*shareable=yes/, [disk]);
      await refused(create('relf-b', `vol=${POOL}/relf-a.raw`), 5, /--disk vol=rel-hostfiles\/relf-a\.raw is already a disk of VM relf-a/, [disk]);
      const link = join(decoys, 'same-disk.raw');
      symlinkSync(disk, link);
      await refused(create('relf-b', `path=${link}`), 5, /is already a disk of VM relf-a/, [disk]);
      rmSync(link);

      await cliOk(create('relf-share', `path=${disk},shareable=yes`), o());
      const xml = virsh('dumpxml', '--domain', 'relf-share').stdout;
      expect(xml).toMatch(/<shareable\/>/);
      await cliOk(['vm', 'delete', 'relf-share'], o());
    });
  });

  describe('names and numbers say what they accept', () => {
    it('a VM name holding a byte that is not UTF-8 is refused (exit 2), not created with U+FFFD in it', async () => {
      const before = snapshot();
      // A shell passes the raw byte 0xff; Node's spawn could only pass valid UTF-8.
      const script = 'exec ip netns exec "$1" "$2" "$3" -c "$4" vm create "$(printf \'relf-\\377\')" --boot "kernel=$5" --network none --no-start';
      const r = spawnSync('bash', ['-c', script, 'bash', lab.netns, process.execPath, KVMCTL, lab.uri, guest('vmlinuz')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KVMCTL_STATE_DIR: stateDir } });
      expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/error: invalid VM name "relf-\ufffd": it is not valid UTF-8 \(or contains U\+FFFD\)\n/) });
      expect(snapshot()).toEqual(before);
    });

    it('a size with a space in it ("10 G") is refused (exit 2) with what to write instead', async () => {
      const stderr = await refused(['volume', 'create', 'relf-size.raw', '--pool', POOL, '--size', '10 G', '--format', 'raw'], 2, /error: invalid --size "10 G": it contains white space\n/);
      expect(stderr).toMatch(/hint: write the number and the unit together, without spaces, e\.g\. 10G/);
    });
  });

  describe('logs and input files', () => {
    const create = (...more: string[]) => ['vm', 'create', 'relf-b', '--boot', `kernel=${guest('vmlinuz')}`, '--network', 'none', '--no-start', ...more];

    it.each([
      ['/etc', /invalid --log-dir "\/etc": it is inside \/etc, a system directory/],
      ['/root/.ssh', /invalid --log-dir "\/root\/\.ssh": it is inside \/root/],
      ['/dev', /invalid --log-dir "\/dev": it is inside \/dev/],
    ])('--log-dir %s: exit 2', async (dir, why) => {
      const stderr = await refused(create('--log-dir', dir), 2, why, [dir]);
      expect(stderr).toMatch(/hint: use a directory meant for logs, such as \/var\/log\/kvmctl/);
    });

    it('--log-dir through a symlink to /etc: exit 2', async () => {
      const link = join(decoys, 'logs');
      symlinkSync('/etc', link);
      await refused(create('--log-dir', link), 2, /it leads through a symlink to \/etc, and it is inside \/etc, a system directory/, ['/etc']);
      rmSync(link);
    });

    it('user-data that is a FIFO, /dev/zero or a 300 MB file: exit 2 at once, nothing read', async () => {
      const fifo = join(decoys, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const big = join(decoys, 'big.yaml');
      writeFileSync(big, '#cloud-config\n');
      truncateSync(big, 300 * 1000 * 1000);
      await refused(create('--cloud-init', `user-data=${fifo}`), 2, /--cloud-init user-data=: ".*fifo" is a FIFO \(named pipe\), not a regular file/);
      await refused(create('--cloud-init', 'user-data=/dev/zero'), 2, /--cloud-init user-data=: "\/dev\/zero" is a device, not a regular file/);
      await refused(create('--cloud-init', `user-data=${big}`), 2, /".*big\.yaml" is 286\.1 MiB, over the limit of 1\.0 MiB for an input file/);
      rmSync(fifo);
      rmSync(big);
    });

    it('user-data readable only by root (a decoy like /etc/shadow) is used with a warning', async () => {
      const secret = join(decoys, 'shadow-like');
      writeFileSync(secret, '#cloud-config\nhostname: decoy\n');
      chownSync(secret, 0, 0);
      chmodSync(secret, 0o640);
      const before = snapshot([secret]);
      const r = await cli(create('--disk', `size=8M,pool=${POOL}`, '--cloud-init', `user-data=${secret}`, '--print-xml'), o());
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: --cloud-init user-data=: ".*shadow-like" is owned by root and not readable by other users \(mode 0640\), yet the guest will be able to read its contents/);
      expect(snapshot([secret])).toEqual(before);
    });
  });
});
