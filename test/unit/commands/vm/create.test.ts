/**
 * `vm create` against recorded virsh output: validation before any side
 * effect, the plan it runs, rollback of every step, existing VMs, dry-run and
 * --print-xml.
 */
import { writeFileSync, existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { parseDomainXml } from '../../../../src/libvirt/domain-xml.js';
import { parseOutput } from '../../../support/schemas.js';
import { stubStorage } from '../../../support/storage.js';
import { isVolCreate, volCreate } from '../../volume-match.js';
import { afterStart, firstLook, LEASED, LEASES, WEB_LEASE_MADE_MS } from './vm-states.js';
import { batchArgv, batchStdout, callOf, mutations, recorded, runKvmctl, short, stubBatch, type TestOptions, URI, virshArgv } from '../../../support/harness.js';
import { POOL_DIR, poolWords, recordedPoolOutputs, stubDomainList } from '../../../support/vm.js';

const KEY_FILE = '/home/me/.ssh/id_ed25519.pub';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1cD0ucVvcQNmYx9vM3Q0dyV3R5Z3n2mY1zR2w6h1a me@desk';
const FILES = { [KEY_FILE]: `${KEY}\n`, '/usr/bin/genisoimage': '' };
const BASE = 'fxvm-pool/base.qcow2';

interface Reads {
  name?: string;
  existingXml?: string;
  vols?: Array<[string, string, string]>;
  /** `virsh domcapabilities --virttype qemu` (default: the recording, <vcpu max='255'/>, no UEFI firmware). */
  domcapsQemu?: string;
  caps?: string;
  netList?: string;
  pools?: string[];
  poolOutputs?: string[];
  /** The defined VMs loadDomains finds (default none): their disks and MACs are taken. */
  domains?: Array<{ name: string; state: number; xml: string }>;
}

/** Stubs create's reads: the main batch, loadPools and loadDomains. */
function stubReads(runner: FakeRunner, r: Reads = {}): FakeRunner {
  const name = r.name ?? 'web1';
  const vols = r.vols ?? [['fxvm-pool', 'base.qcow2', recorded('vm/virsh-vol-dumpxml-base.xml')]];
  stubBatch(
    runner,
    [
      ['dumpxml', '--domain', name, '--inactive'],
      ['capabilities'],
      ['nodeinfo'],
      ['nodememstats'],
      ['net-list', '--all'],
      ['domcapabilities', '--virttype', 'qemu'],
      ['domcapabilities', '--virttype', 'kvm'],
      ...vols.map(([p, v]) => ['vol-dumpxml', '--pool', p, '--vol', v]),
    ],
    [
      r.existingXml ?? '',
      r.caps ?? recorded('vm/virsh-capabilities.xml'),
      recorded('vm/virsh-nodeinfo.txt'),
      recorded('vm/virsh-nodememstats.txt'),
      r.netList ?? recorded('vm/virsh-net-list-all.txt'),
      r.domcapsQemu ?? recorded('vm/virsh-domcapabilities-qemu.xml'),
      // The lab has no usable KVM: virsh-domcapabilities-kvm.stderr, nothing on stdout.
      '',
      ...vols.map(([, , xml]) => xml),
    ],
    r.existingXml ? '' : `error: failed to get domain '${name}'\n`,
  );
  const pools = r.pools ?? ['fxvm-pool'];
  if (pools.length > 0) stubBatch(runner, pools.flatMap(poolWords), r.poolOutputs ?? recordedPoolOutputs());
  return stubDomainList(runner, r.domains ?? []);
}

const isGenisoimage = (c: Command) => c.program === 'genisoimage';

/** genisoimage as the real one behaves: it writes the image it was asked for. */
function stubGenisoimage(runner: FakeRunner): FakeRunner {
  return runner.stub(isGenisoimage, (c) => {
    writeFileSync(c.args[c.args.indexOf('-output') + 1] ?? '', Buffer.alloc(374784));
    return {};
  });
}

const OVERLAY = volCreate(URI, 'fxvm-pool', { name: 'web1.qcow2', capacityBytes: 1073741824, format: 'qcow2', backing: { path: `${POOL_DIR}/base.qcow2`, format: 'qcow2' } });
const SEED = volCreate(URI, 'fxvm-pool', { name: 'web1-seed.iso', capacityBytes: 374784, allocationBytes: 0, format: 'raw' });
const isUpload = (c: Command) => c.args.includes('vol-upload');
const isDefine = (c: Command) => c.args.includes('define');
const START = virshArgv('start', '--domain', 'web1');
const UNDO_OVERLAY = virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'web1.qcow2');
const UNDO_SEED = virshArgv('vol-delete', '--pool', 'fxvm-pool', '--vol', 'web1-seed.iso');
const UNDEFINE = virshArgv('undefine', '--domain', 'web1', '--nvram', '--snapshots-metadata', '--checkpoints-metadata', '--managed-save');
const DESTROY = virshArgv('destroy', '--domain', 'web1');

const CREATE = ['vm', 'create', 'web1', '--image', `${BASE},size=1G`, '--memory', '256M', '--ssh-key', KEY_FILE];

function run(argv: string[], runner: FakeRunner, o: TestOptions = {}) {
  return runKvmctl(argv, runner, { files: FILES, ...o });
}

describe('vm create: usage errors are exit 2 before anything runs', () => {
  const cases: Array<[string[], RegExp]> = [
    [['vm', 'create', '', '--import', '--disk', 'path=/x.qcow2'], /invalid VM name "": it is empty/],
    [['vm', 'create', 'a/b', '--import', '--disk', 'path=/x.qcow2'], /invalid VM name "a\/b": it contains '\/'/],
    [['vm', 'create', '--import', '--disk', 'path=/x.qcow2', '--', '-x'], /invalid VM name "-x": it starts with '-'/],
    [['vm', 'create', 'a\u0007b', '--import', '--disk', 'path=/x.qcow2'], /control characters/],
    [['vm', 'create', 'x'.repeat(201), '--import', '--disk', 'path=/x.qcow2'], /longer than 200 bytes/],
    [['vm', 'create', 'w', '--image', BASE, '--memory', '0'], /invalid --memory "0"/],
    [['vm', 'create', 'w', '--image', BASE, '--memory', '1M'], /at least 16M/],
    [['vm', 'create', 'w', '--image', BASE, '--vcpus', '0'], /--vcpus "0": expected a whole number from 1 to 4096/],
    [['vm', 'create', 'w', '--image', BASE, '--vcpus', '2.5'], /--vcpus "2.5"/],
    [['vm', 'create', 'w', '--import', '--disk', 'bus=virtio'], /give exactly one of size=/],
    [['vm', 'create', 'w', '--import', '--disk', 'size=1G,path=/x.img'], /give exactly one of size=/],
    [['vm', 'create', 'w', '--import', '--disk', 'size=1G,cache=none'], /unknown key "cache"/],
    [['vm', 'create', 'w', '--import', '--disk', 'size=1G,bus=floppy'], /bus= "floppy": expected virtio, sata, scsi, ide, usb/],
    [['vm', 'create', 'w', '--import', '--disk', 'size=1G,format=vmdk'], /format= "vmdk": expected qcow2, raw/],
    [['vm', 'create', 'w', '--import', '--disk', 'path=disk.qcow2'], /must be an absolute path/],
    [['vm', 'create', 'w', '--import', '--disk', 'path=/srv/disk'], /say the image format of \/srv\/disk/],
    [['vm', 'create', 'w', '--import', '--disk', 'vol=nopool'], /expected POOL\/VOLUME/],
    [['vm', 'create', 'w', '--import', '--disk', 'vol=p/v,format=raw'], /format= is read from the volume/],
    [['vm', 'create', 'w', '--import'], /no --disk was given/],
    [['vm', 'create', 'w', '--disk', 'size=1G'], /nothing to boot from/],
    [['vm', 'create', 'w', '--image', `${BASE},size=lots`], /invalid --image size=/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'network=default,bridge=br0'], /exactly one of network=NAME or bridge=BRIDGE/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'network=default,mac=01:00:5e:00:00:01'], /not a unicast MAC address/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'network=a,mac=52:54:00:00:00:01', '--network', 'network=b,mac=52:54:00:00:00:01'], /MAC 52:54:00:00:00:01 is given twice/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'none', '--network', 'network=default'], /--network none cannot be combined/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'bridge=br;0'], /not a Linux interface name/],
    [['vm', 'create', 'w', '--image', BASE, '--network', 'model=virtio'], /exactly one of network=NAME/],
    [['vm', 'create', 'w', '--image', BASE, '--graphics', 'sdl'], /argument 'sdl' is invalid/],
    [['vm', 'create', 'w', '--image', BASE, '--virt-type', 'qemu', '--cpu', 'host-passthrough'], /host-passthrough needs --virt-type kvm/],
    [['vm', 'create', 'w', '--image', BASE, '--wait', 'ip', '--no-start'], /--wait ip and --no-start contradict/],
    [['vm', 'create', 'w', '--image', BASE, '--wait', 'running'], /--wait "running": expected ip or ready/],
    [['vm', 'create', 'w', '--image', BASE, '--wait', 'ready', '--no-start'], /--wait ready and --no-start contradict/],
    [['vm', 'create', 'w', '--image', BASE, '--wait', 'ip', '--network', 'none'], /no NIC to get an address on/],
    [['vm', 'create', 'w', '--image', BASE, '--wait', 'ip', '--print-xml'], /--print-xml changes nothing/],
    [['vm', 'create', 'w', '--image', BASE, '--timeout', '-1'], /unknown option|--timeout/],
    [['vm', 'create', 'w', '--image', BASE, '--cloud-init', 'meta-data=/m'], /user-data=FILE is required/],
    [['vm', 'create', 'w', '--image', BASE, '--cloud-init', 'user-data=/u', '--ssh-key', KEY_FILE], /--ssh-key is a short form of user-data/],
    [['vm', 'create', 'w', '--image', BASE, '--hostname', 'bad_name!'], /--hostname "bad_name!": not a valid host name/],
    [['vm', 'create', 'w', '--image', BASE, '--log-dir', 'logs'], /--log-dir "logs": must be an absolute path/],
    [['vm', 'create', 'w', '--boot', 'kernel=vmlinuz'], /kernel=vmlinuz: must be an absolute path/],
    [['vm', 'create', 'w', '--boot', 'initrd=/i'], /initrd= needs kernel=/],
    [['vm', 'create', 'w', '--boot', 'bios'], /unknown item "bios"/],
    [['vm', 'create', 'w', '--image', BASE, '--ssh-key', '/nonexistent.pub'], /--ssh-key: cannot read "\/nonexistent.pub"/],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.slice(2).join(' ').slice(0, 90)}`, async () => {
      const runner = new FakeRunner();
      const r = await run(argv, runner);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
      expect(runner.calls).toEqual([]);
    });
  }

  it('an --image that is neither POOL/VOLUME, a path, a URL nor a catalog name is exit 3 naming every form, before anything runs', async () => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'w', '--image', 'base.qcow2'], runner, { env: { KVMCTL_CONFIG_DIR: '/nonexistent' } });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/no image "base.qcow2" in the catalog/);
    expect(r.err).toMatch(/a volume is POOL\/VOLUME, a local file \.\/FILE/);
    expect(runner.calls).toEqual([]);
  });

  it('a private key given as --ssh-key is refused, naming the file', async () => {
    const runner = new FakeRunner();
    const r = await run([...CREATE.slice(0, -1), '/home/me/.ssh/id_ed25519'], runner, { files: { ...FILES, '/home/me/.ssh/id_ed25519': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n' } });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--ssh-key \/home\/me\/.ssh\/id_ed25519: "-----BEGIN OPENSSH PRIVATE KEY-----"… is not an OpenSSH public key/);
    expect(r.err).toMatch(/never the private key/);
    expect(runner.calls).toEqual([]);
  });

  it('an empty user-data file is refused', async () => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'w', '--image', BASE, '--cloud-init', 'user-data=/u'], runner, { files: { ...FILES, '/u': '\n' } });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/user-data=\/u: the file is empty/);
  });
});

describe('vm create: the plan it runs', () => {
  it('overlay, seed volume + upload, define, start, then waits for the lease and prints the address', async () => {
    const runner = stubReads(new FakeRunner());
    stubGenisoimage(runner);
    runner.stub(OVERLAY, {}).stub(SEED, {}).stub(isUpload, {}).stub(isDefine, {}).stub(START, {});
    runner.stub(virshArgv('domstate', '--domain', 'web1', '--reason'), { stdout: recorded('vm/virsh-domstate-web.txt') });
    // The new run's id (read after the start, then by the wait's first look), its NIC, the network's lease time, the lease.
    firstLook(runner, 'web1', 1, 2).stub(LEASES, LEASED);
    // The recorded lease was made a minute after this create started the VM.
    vi.setSystemTime(WEB_LEASE_MADE_MS - 60_000);
    const r = await run([...CREATE, '--wait', 'ip'], runner).finally(() => vi.useRealTimers());
    expect(r.err).toMatch(/warning: KVM is not usable .*using emulation \(--virt-type qemu\)/);
    expect(r.err).toMatch(/vm web1 created and started \(qemu, 1 vCPU, 256\.0 MiB\); serial log: \/var\/tmp\/kvmctl-lab\/vm\/pools\/fxvm-pool\/web1\.serial\.log/);
    expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
    expect(r.code).toBe(0);
    expect(mutations(runner).map((m) => m.split(' ').slice(0, 2).join(' '))).toEqual(['virsh vol-create', 'virsh vol-create', 'virsh vol-upload', 'virsh define', 'virsh start']);
    runner.verify();

    // The seed is uploaded from a private temporary file that is gone afterwards.
    const upload = callOf(runner, isUpload);
    expect(upload.args.slice(2, 6)).toEqual(['vol-upload', '--pool', 'fxvm-pool', '--vol']);
    expect(existsSync(upload.args[upload.args.indexOf('--file') + 1] ?? '')).toBe(false);
    const iso = callOf(runner, isGenisoimage);
    expect(iso.args).toContain('cidata');

    const def = await parseDomainXml(callOf(runner, isDefine).input ?? '');
    expect(def).toMatchObject({ type: 'qemu', name: 'web1', memoryBytes: 256 * 1024 ** 2, vcpus: 1, kvmctl: { seed: { pool: 'fxvm-pool', volume: 'web1-seed.iso' } } });
    // The seed is a read-only virtio disk: cloud kernels without AHCI (Debian's) see no SATA CD-ROM.
    expect(def.disks.map((d) => [d.device, d.target.dev, d.target.bus, d.readonly === true, d.source?.file, d.driver?.type])).toEqual([
      ['disk', 'vda', 'virtio', false, `${POOL_DIR}/web1.qcow2`, 'qcow2'],
      ['disk', 'vdb', 'virtio', true, `${POOL_DIR}/web1-seed.iso`, 'raw'],
    ]);
    expect(def.interfaces).toEqual([expect.objectContaining({ type: 'network', source: { network: 'default' }, model: 'virtio', mac: expect.stringMatching(/^52:54:00:/) })]);
    expect(def.serialLogs).toEqual([`${POOL_DIR}/web1.serial.log`]);
    expect(def.os.boot).toEqual(['hd']);
  });

  it('-o json with --no-start --autostart: the VM, its volumes and where its serial log goes', async () => {
    const runner = stubReads(new FakeRunner());
    runner.stub(volCreate(URI, 'fxvm-pool', { name: 'web1.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: `${POOL_DIR}/base.qcow2`, format: 'qcow2' } }), {});
    runner.stub(volCreate(URI, 'fxvm-pool', { name: 'web1-vdb.img', capacityBytes: 2147483648, allocationBytes: 0, format: 'raw' }), {});
    runner.stub(isDefine, {}).stub(virshArgv('autostart', '--domain', 'web1'), {});
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--disk', 'size=2G,format=raw', '--network', 'none', '--no-start', '--autostart', '--vcpus', '2'], runner, { output: 'json' });
    expect(r.code).toBe(0);
    // The whole VM as it was defined, the object vm info prints, with changed.
    const json = parseOutput(['vm', 'create', 'web1'], r.out);
    expect(json).toMatchObject({ changed: true, name: 'web1', virtType: 'qemu', state: 'shutoff', autostart: true, persistent: true, vcpus: 2, snapshots: [], addresses: [], cloudInit: null });
    expect(json.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.disks.map((d: { source: string; capacityBytes: number | null }) => [d.source, d.capacityBytes])).toEqual([
      [`${POOL_DIR}/web1.qcow2`, 67108864],
      [`${POOL_DIR}/web1-vdb.img`, 2147483648],
    ]);
    expect(json.consoles.map((c: { logFile: string | null }) => c.logFile)).toContain(`${POOL_DIR}/web1.serial.log`);
    const def = await parseDomainXml(callOf(runner, isDefine).input ?? '');
    expect(def.interfaces).toEqual([]);
    expect(def.vcpus).toBe(2);
    expect(mutations(runner).some((m) => m.includes(' start '))).toBe(false);
    runner.verify();
  });

  it('warns about overcommit: more vCPUs than host CPUs, more memory than the host has free', async () => {
    const runner = stubReads(new FakeRunner());
    runner.stub(volCreate(URI, 'fxvm-pool', { name: 'web1.qcow2', capacityBytes: 67108864, format: 'qcow2', backing: { path: `${POOL_DIR}/base.qcow2`, format: 'qcow2' } }), {});
    runner.stub(isDefine, {});
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--vcpus', '4', '--memory', '64G', '--no-start', '--network', 'none'], runner);
    expect(r.code).toBe(0);
    expect(mutations(runner)).toEqual(['virsh vol-create --pool fxvm-pool --file /dev/stdin', 'virsh define --file /dev/stdin']);
    expect(r.err).toMatch(/warning: 4 vCPUs is more than the host's 2 CPUs \(overcommitted/);
    expect(r.err).toMatch(/warning: 64\.0 GiB of memory is more than the host has free \(22\.\d GiB\)/);
  });

  it('kernel boot with an existing disk by path: the log goes beside that disk, no volume is made', async () => {
    const runner = stubReads(new FakeRunner(), { name: 'k1', vols: [], pools: [] });
    afterStart(runner.stub(isDefine, {}).stub(virshArgv('start', '--domain', 'k1'), {}), 'k1');
    const r = await run(['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz,initrd=/srv/initrd.img,cmdline=console=ttyS0,115200 kvmctl.hostname=', '--disk', 'path=/srv/k1/data.raw,bus=sata', '--network', 'none'], runner, { files: {} });
    expect(r.code).toBe(0);
    const def = await parseDomainXml(callOf(runner, isDefine).input ?? '');
    expect(def.os).toMatchObject({ kernel: '/srv/vmlinuz', initrd: '/srv/initrd.img', cmdline: 'console=ttyS0,115200 kvmctl.hostname=', boot: [] });
    expect(def.disks.map((d) => [d.target.dev, d.target.bus, d.source?.file, d.driver?.type])).toEqual([['sda', 'sata', '/srv/k1/data.raw', 'raw']]);
    expect(def.serialLogs).toEqual(['/srv/k1/k1.serial.log']);
    expect(mutations(runner)).toEqual([expect.stringMatching(/^virsh define/), 'virsh start --domain k1']);
  });

  it("a disk of another VM (running or defined) is refused (exit 5) before anything runs; shareable=yes on a raw disk allows it", async () => {
    const other = `<domain type='qemu'><name>db1</name><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/srv/shared.raw'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;
    const args = (disk: string) => ['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz', '--disk', disk, '--network', 'none', '--no-start'];
    const refused = stubReads(new FakeRunner(), { name: 'k1', vols: [], pools: [], domains: [{ name: 'db1', state: 5, xml: other }] });
    const r = await run(args('path=/srv/shared.raw'), refused);
    expect([r.code, r.err]).toEqual([5, expect.stringMatching(/^kvmctl: error: --disk path=\/srv\/shared\.raw is already a disk of VM db1 \(shutoff\); two VMs writing one disk corrupt it\nhint: .*add shareable=yes/)]);
    expect(mutations(refused)).toEqual([]);

    const shared = stubReads(new FakeRunner(), { name: 'k1', vols: [], pools: [], domains: [{ name: 'db1', state: 5, xml: other }] });
    shared.stub(isDefine, {});
    expect((await run(args('path=/srv/shared.raw,shareable=yes'), shared)).code).toBe(0);
    expect((await parseDomainXml(callOf(shared, isDefine).input ?? '')).disks[0]?.shareable).toBe(true);

    for (const [disk, why] of [
      ['path=/srv/shared.qcow2,shareable=yes', /only a raw disk can be shared/],
      ['size=1G,shareable=yes', /shareable= goes with vol= or path=/],
      ['path=/srv/x.raw,shareable=maybe', /shareable=/],
    ] as const) {
      const none = new FakeRunner();
      const x = await run(args(disk), none);
      expect([x.code, x.err]).toEqual([2, expect.stringMatching(why)]);
      expect(none.calls).toEqual([]);
    }
  });

  it.each([
    ['path=/etc/passwd,format=raw', /--disk path: "\/etc\/passwd" cannot be a VM disk: it is inside \/etc, a system directory/],
    ['path=/root/.ssh/id_rsa,format=raw', /inside \/root, a system directory/],
    ['path=/home/me/.ssh/disk.raw', /inside a \.ssh directory, which holds keys/],
    ['path=/dev/zero,format=raw', /"\/dev\/zero" cannot be a VM disk: it is not a block device/],
    ['path=/srv/a/../b.raw', /not in normal form/],
  ])('--disk %s is refused (exit 2) before anything runs', async (disk, why) => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz', '--disk', disk, '--network', 'none'], runner);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(why)]);
    expect(runner.calls).toEqual([]);
  });

  it('--cdrom is a read-only disk: /etc/shadow is refused (exit 2), install media shipped under /usr/share is not', async () => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'k1', '--cdrom', '/etc/shadow', '--disk', 'size=1G', '--network', 'none'], runner);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/--cdrom: "\/etc\/shadow" cannot be a VM disk: it is inside \/etc, a system directory/)]);
    expect(runner.calls).toEqual([]);
    const usr = await run(['vm', 'create', 'k1', '--cdrom', '/usr/share/virtio-win/virtio-win.iso', '--disk', 'size=1G', '--network', 'none', '--print-xml'], new FakeRunner());
    expect(usr.err).not.toMatch(/cannot be a VM disk/);
  });

  it.each([
    ['/etc', /inside \/etc, a system directory/],
    ['/root/.ssh', /inside \/root/],
    ['/dev', /inside \/dev/],
    ['/tmp', /\/tmp itself/],
  ])('--log-dir %s is refused (exit 2) before anything runs', async (dir, why) => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz', '--network', 'none', '--log-dir', dir], runner);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(why)]);
    expect(r.err).toMatch(/hint: use a directory meant for logs/);
    expect(runner.calls).toEqual([]);
  });

  it('--log-dir puts the serial log where it says', async () => {
    const runner = stubReads(new FakeRunner(), { name: 'k1', vols: [], pools: [] });
    runner.stub(isDefine, {});
    const r = await run(['vm', 'create', 'k1', '--boot', 'kernel=/srv/vmlinuz', '--network', 'none', '--no-start', '--log-dir', '/var/log/kvmctl/'], runner);
    expect(r.code).toBe(0);
    expect((await parseDomainXml(callOf(runner, isDefine).input ?? '')).serialLogs).toEqual(['/var/log/kvmctl/k1.serial.log']);
  });
});

describe('vm create: a failing step undoes what came before it (exit 7)', () => {
  const steps: Array<{ fails: string[] | ((c: Command) => boolean); undone: string[][] }> = [
    { fails: OVERLAY, undone: [] },
    { fails: SEED, undone: [UNDO_OVERLAY] },
    { fails: isUpload, undone: [UNDO_SEED, UNDO_OVERLAY] },
    { fails: isDefine, undone: [UNDO_SEED, UNDO_OVERLAY] },
    { fails: START, undone: [UNDEFINE, UNDO_SEED, UNDO_OVERLAY] },
  ];
  const all: Array<string[] | ((c: Command) => boolean)> = [OVERLAY, SEED, isUpload, isDefine, START];
  for (const [i, step] of steps.entries()) {
    it(`step ${i + 1} fails: ${step.undone.length} undo(s), in reverse order`, async () => {
      const runner = stubReads(new FakeRunner());
      stubGenisoimage(runner);
      for (const s of all.slice(0, i)) runner.stub(s, {});
      runner.stub(step.fails, { exitCode: 1, stderr: 'error: internal error: injected\n' });
      for (const u of step.undone) runner.stub(u, {});
      const r = await run(CREATE, runner);
      expect(r.err).toMatch(step.undone.length === 0 ? /vm create web1 failed: .*injected; it had changed nothing yet/ : /vm create web1 failed: .*injected; everything it had done was undone/);
      expect(r.code).toBe(7);
      const ran = mutations(runner);
      expect(ran.slice(i + 1)).toEqual(step.undone.map((u) => short({ program: u[0] ?? '', args: u.slice(1), mutates: true })));
      runner.verify();
    });
  }

  it('an undo that fails too is exit 8, naming what is left and how to remove it', async () => {
    const runner = stubReads(new FakeRunner());
    stubGenisoimage(runner);
    runner.stub(OVERLAY, {}).stub(SEED, {}).stub(isUpload, { exitCode: 1, stderr: 'error: stream aborted\n' });
    runner.stub(UNDO_SEED, {}).stub(UNDO_OVERLAY, { exitCode: 1, stderr: 'error: cannot unlink file: Permission denied\n' });
    const r = await run(CREATE, runner);
    expect(r.code).toBe(8);
    expect(r.err).toMatch(/left behind:\n  - volume fxvm-pool\/web1\.qcow2 \(remove with: virsh -c qemu:\/\/\/system vol-delete --pool fxvm-pool --vol web1\.qcow2\)/);
    runner.verify();
  });
});

describe('vm create: what exists already', () => {
  const OFF = ['vm', 'create', 'fxvm-off', '--image', BASE, '--disk', 'size=64M', '--memory', '128M', '--vcpus', '2', '--network', 'network=default,mac=52:54:00:f1:00:02', '--no-start'];

  it('the same spec as an existing VM is "unchanged", exit 0, nothing run', async () => {
    const runner = stubReads(new FakeRunner(), { name: 'fxvm-off', existingXml: recorded('vm/virsh-dumpxml-off-inactive.xml') });
    const r = await run(OFF, runner);
    expect(r.out).toBe('vm fxvm-off unchanged (it exists with this spec)\n');
    expect(r.code).toBe(0);
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });

  it('the same spec without --no-start converges: a shut-off VM is started ("unchanged; … started it"); a running one is left alone', async () => {
    const create = OFF.filter((a) => a !== '--no-start');
    const off = stubReads(new FakeRunner(), { name: 'fxvm-off', existingXml: recorded('vm/virsh-dumpxml-off-inactive.xml') });
    afterStart(off.stub(virshArgv('domstate', '--domain', 'fxvm-off', '--reason'), { stdout: recorded('vm/virsh-domstate-off.txt') }).stub(virshArgv('start', '--domain', 'fxvm-off'), {}), 'fxvm-off');
    const r = await run(create, off);
    expect([r.code, r.out]).toEqual([0, 'vm fxvm-off unchanged (it exists with this spec); it was shutoff, started it\n']);
    expect(mutations(off)).toEqual(['virsh start --domain fxvm-off']);
    off.verify();

    const running = stubReads(new FakeRunner(), { name: 'fxvm-off', existingXml: recorded('vm/virsh-dumpxml-off-inactive.xml') });
    running.stub(virshArgv('domstate', '--domain', 'fxvm-off', '--reason'), { stdout: 'running (booted)\n\n' });
    const again = await run(create, running);
    expect([again.code, again.out]).toEqual([0, 'vm fxvm-off unchanged (it exists with this spec)\n']);
    expect(mutations(running)).toEqual([]);
    running.verify();
  });

  it('another spec for an existing name is exit 4 naming the differences; the VM is untouched', async () => {
    const runner = stubReads(new FakeRunner(), { name: 'fxvm-off', existingXml: recorded('vm/virsh-dumpxml-off-inactive.xml') });
    const r = await run(OFF.map((a) => (a === '128M' ? '256M' : a)), runner);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/VM "fxvm-off" already exists with a different spec \(memory: 128\.0 MiB -> 256\.0 MiB\); it was left unchanged/);
    expect(mutations(runner)).toEqual([]);
  });

  it('a volume the VM would create that exists already is exit 4 before any change', async () => {
    const runner = stubReads(new FakeRunner(), { name: 'fxvm-web' });
    const r = await run(['vm', 'create', 'fxvm-web', '--image', BASE, '--network', 'none'], runner);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/volume fxvm-pool\/fxvm-web\.qcow2 already exists \(vm create fxvm-web would create it\)/);
    expect(mutations(runner)).toEqual([]);
  });

  it('--image nope/nope is exit 3 and hints volume list --pool nope, a command kvmctl accepts (not one it rejects)', async () => {
    const runner = stubReads(new FakeRunner(), { vols: [['nope', 'nope', '']], pools: ['nope'], poolOutputs: ['', '', ''] });
    const r = await run(['vm', 'create', 'web1', '--image', 'nope/nope'], runner);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/base image nope\/nope not found \(no such volume, or pool "nope" is missing or inactive\)\nhint: list the volumes with: kvmctl volume list --pool nope\n/);
    expect(mutations(runner)).toEqual([]);
    // The hint, run as printed: the pool is missing (exit 3, named), not a usage error (exit 2).
    const hinted = /kvmctl (volume list .*)$/m.exec(r.err)![1]!.split(' ');
    const h = await run(hinted, stubStorage(new FakeRunner(), 'empty', { only: ['nope'], users: [] }));
    expect([h.code, h.err]).toEqual([3, expect.stringMatching(/storage pool "nope" not found/)]);
  });

  it('a missing base image, pool or network is exit 3; an inactive network exit 5; all before any change', async () => {
    const noBase = stubReads(new FakeRunner(), { vols: [['fxvm-pool', 'base.qcow2', '']] });
    const a = await run(['vm', 'create', 'web1', '--image', BASE], noBase);
    expect([a.code, a.err]).toEqual([3, expect.stringMatching(/base image fxvm-pool\/base\.qcow2 not found/)]);

    const noPool = stubReads(new FakeRunner(), { vols: [], pools: ['default'], poolOutputs: ['', '', ''] });
    const b = await run(['vm', 'create', 'web1', '--disk', 'size=1G', '--import'], noPool);
    expect([b.code, b.err]).toEqual([3, expect.stringMatching(/storage pool "default" not found \(for a new disk\)/)]);

    const noNet = stubReads(new FakeRunner());
    const c = await run(['vm', 'create', 'web1', '--image', BASE, '--network', 'network=lab'], noNet);
    expect([c.code, c.err]).toEqual([3, expect.stringMatching(/network "lab" not found/)]);

    const inactive = stubReads(new FakeRunner(), { netList: recordedInactiveDefault() });
    const d = await run(['vm', 'create', 'web1', '--image', BASE], inactive);
    expect([d.code, d.err]).toEqual([5, expect.stringMatching(/network "default" is not active\nhint: start it with: kvmctl net start default/)]);
    for (const runner of [noBase, noPool, noNet, inactive]) expect(mutations(runner)).toEqual([]);
  });

  it('an --image size= below the base image size is exit 2', async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run(['vm', 'create', 'web1', '--image', `${BASE},size=1M`], runner);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--image size=1\.0 MiB is smaller than the base image fxvm-pool\/base\.qcow2 \(64\.0 MiB\)/);
  });

  it('without genisoimage or xorriso, a cloud-init seed is exit 5 naming the package, before any read', async () => {
    const runner = new FakeRunner();
    const r = await run(CREATE, runner, { files: { [KEY_FILE]: KEY } });
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/genisoimage is not installed[\s\S]*apt-get install genisoimage/);
    expect(runner.calls).toEqual([]);
  });
});

function recordedInactiveDefault(): string {
  return recorded('vm/virsh-net-list-all.txt').replace(/default\s+active/, 'default   inactive');
}

/** The lab's capabilities with KVM offered for x86_64, as on a host with VT-x. */
function capsWithKvm(): string {
  const caps = recorded('vm/virsh-capabilities.xml');
  const at = caps.lastIndexOf("<domain type='qemu'/>");
  return caps.slice(0, at) + "<domain type='qemu'/>\n      <domain type='kvm'/>" + caps.slice(at + "<domain type='qemu'/>".length);
}

const KVM_HOST = { '/proc/cpuinfo': 'processor\t: 0\nflags\t\t: fpu vme vmx\n', '/dev/kvm': '' };

describe('vm create: virt type, CPU and firmware', () => {
  it('defaults to kvm with host-passthrough where KVM is usable, without a warning', async () => {
    const runner = stubReads(new FakeRunner(), { caps: capsWithKvm() });
    runner.stub(isVolCreate, {}).stub(isDefine, {});
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--network', 'none', '--no-start'], runner, { files: KVM_HOST, writable: ['/dev/kvm'] });
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/warning/);
    const def = await parseDomainXml(callOf(runner, isDefine).input ?? '');
    expect([def.type, def.cpuMode]).toEqual(['kvm', 'host-passthrough']);
    runner.verify();
  });

  it('the hypervisor offering KVM is not enough when this machine cannot run it (no vmx/svm): qemu, with a warning', async () => {
    const runner = stubReads(new FakeRunner(), { caps: capsWithKvm() });
    runner.stub(isVolCreate, {}).stub(isDefine, {});
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--network', 'none', '--no-start'], runner, { files: { ...KVM_HOST, '/proc/cpuinfo': 'flags\t\t: fpu vme\n' }, writable: ['/dev/kvm'] });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^warning: KVM is not usable \(the CPU has no vmx\/svm flag, so \/dev\/kvm cannot run guests.*\); using emulation/m);
    expect((await parseDomainXml(callOf(runner, isDefine).input ?? '')).type).toBe('qemu');
  });

  it('--virt-type kvm where the hypervisor offers none is exit 5 with the way out', async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--virt-type', 'kvm'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/--virt-type kvm: KVM is not usable here[\s\S]*hint: use --virt-type qemu/);
    expect(mutations(runner)).toEqual([]);
  });

  it('--cpu host-passthrough without usable KVM is exit 5', async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--cpu', 'host-passthrough'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/--cpu host-passthrough needs KVM, which is not usable here/);
  });

  it('a remote URI trusts the remote capabilities, not this machine', async () => {
    const runner = new FakeRunner();
    const remote = 'qemu+ssh://root@kvm1/system';
    const words = [['dumpxml', '--domain', 'web1', '--inactive'], ['capabilities'], ['nodeinfo'], ['nodememstats'], ['net-list', '--all'], ['domcapabilities', '--virttype', 'qemu'], ['domcapabilities', '--virttype', 'kvm']];
    const kvmDomcaps = recorded('virsh-domcapabilities-kvm-devkvm.xml');
    runner.stub(batchArgv(words, remote), {
      stdout: batchStdout(['', capsWithKvm(), recorded('vm/virsh-nodeinfo.txt'), recorded('vm/virsh-nodememstats.txt'), recorded('vm/virsh-net-list-all.txt'), recorded('vm/virsh-domcapabilities-qemu.xml'), kvmDomcaps]),
    });
    runner.stub(batchArgv([['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], remote), { stdout: batchStdout(['', '\n']) });
    const r = await run(['vm', 'create', 'web1', '--boot', 'kernel=/srv/vmlinuz', '--network', 'none', '--print-xml'], runner, { uri: remote, files: {} });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/<domain type="kvm">/);
    runner.verify();
  });

  it("--image FILE whose name is no valid name for a new volume is exit 2 before anything runs, naming where the name came from", async () => {
    const runner = new FakeRunner();
    const r = await run(['vm', 'create', 'web1', '--image', '/srv/my disk.qcow2', '--network', 'none'], runner, { files: { '/srv/my disk.qcow2': '' } });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kvmctl: error: invalid volume name "my disk\.qcow2": it contains a space; the file name of --image \(a new volume's name\) may hold only letters, digits, '-', '_' and '\.'.*\nhint: use e\.g\. my-disk\.qcow2\n$/);
    expect(runner.calls.filter((c) => c.mutates)).toEqual([]);
  });

  it("--vcpus above the host's domain capabilities (recorded: <vcpu max='255'/> for qemu) is exit 2 naming the limit, before anything is created", async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--vcpus', '256'], runner);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'kvmctl: error: --vcpus 256 for VM "web1": this host allows at most 255 vCPUs for a qemu x86_64 pc-i440fx-7.2 guest (libvirt\'s domain capabilities)\nhint: give --vcpus 255 or fewer\n',
    );
    expect(mutations(runner)).toEqual([]);
    runner.verify();

    const ok = stubReads(new FakeRunner());
    const at = await run(['vm', 'create', 'web1', '--image', BASE, '--vcpus', '255', '--print-xml'], ok);
    expect(at.code).toBe(0);
    expect(at.out).toMatch(/<vcpu>255<\/vcpu>/);
  });

  it('--boot uefi without UEFI firmware is exit 5 naming the package; with it, firmware="efi"', async () => {
    const none = stubReads(new FakeRunner());
    const r = await run(['vm', 'create', 'web1', '--image', BASE, '--boot', 'uefi'], none);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/--boot uefi: no UEFI firmware is installed[\s\S]*apt-get install ovmf/);

    // The recorded domcapabilities with an OVMF firmware descriptor present.
    const efiRunner = stubReads(new FakeRunner(), { domcapsQemu: recorded('vm/virsh-domcapabilities-qemu.xml').replace("<enum name='firmware'/>", "<enum name='firmware'><value>efi</value></enum>") });
    const ok = await run(['vm', 'create', 'web1', '--image', BASE, '--boot', 'uefi', '--print-xml'], efiRunner);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/<os firmware="efi">/);
  });
});

describe('vm create: --print-xml and --dry-run change nothing', () => {
  it('--print-xml: the XML alone on stdout, the volumes on stderr, no seed image built', async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run([...CREATE, '--print-xml'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^<domain type="qemu">\n {2}<name>web1<\/name>/);
    expect(r.out.trimEnd().endsWith('</domain>')).toBe(true);
    expect(r.err).toMatch(/would create volume fxvm-pool\/web1\.qcow2 \(qcow2, 1\.0 GiB, thin overlay of \/var\/tmp\/kvmctl-lab\/vm\/pools\/fxvm-pool\/base\.qcow2\)/);
    expect(r.err).toMatch(/would create volume fxvm-pool\/web1-seed\.iso \(raw, cloud-init NoCloud seed, label cidata\)/);
    expect(runner.calls.filter((c) => c.mutates || c.program !== 'virsh')).toEqual([]);
    runner.verify();
  });

  it('--print-xml -o json: the XML, the volumes and the seed files in one object', async () => {
    const runner = stubReads(new FakeRunner());
    const r = await run([...CREATE, '--hostname', 'web1.example', '--print-xml'], runner, { output: 'json' });
    const json = parseOutput(['vm', 'create', 'web1'], r.out);
    expect(json.xml).toMatch(/<domain type="qemu">/);
    expect(json.volumes.map((v: { name: string }) => v.name)).toEqual(['web1.qcow2', 'web1-seed.iso']);
    expect(json.seed.metaData).toMatch(/^instance-id: "[0-9a-f-]{36}"\nlocal-hostname: "web1\.example"\n$/);
    expect(json.seed.userData).toContain(JSON.stringify(KEY));
  });

  it('--dry-run runs the reads, prints each change and its XML, runs none', async () => {
    const runner = stubReads(new FakeRunner());
    stubGenisoimage(runner);
    const r = await run(CREATE, runner, { dryRun: true });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/\[dry-run\] would run: virsh -c qemu:\/\/\/system vol-create --pool fxvm-pool --file \/dev\/stdin\n\[dry-run\] with input:\n<volume>\n  <name>web1\.qcow2<\/name>/);
    expect(r.err).toMatch(/\[dry-run\] would run: virsh -c qemu:\/\/\/system define --file \/dev\/stdin\n\[dry-run\] with input:\n<domain type="qemu">/);
    expect(r.err).toMatch(/\[dry-run\] would run: virsh -c qemu:\/\/\/system start --domain web1/);
    expect(r.out).toMatch(/^vm web1 would be created and started \(qemu, 1 vCPU, 256\.0 MiB\); serial log: .* \(dry run: nothing was changed\)\n$/);
    expect(mutations(runner)).toEqual([]);
    runner.verify();
  });
});
