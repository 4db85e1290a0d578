/**
 * kvmctl vm against the lab host, with the real QEMU (emulated) and the lab's
 * guest: a VM made from the bootable image as a thin overlay with a NAT
 * network and a cloud-init seed, its lease, its serial log, stop, snapshots,
 * set, clones, and delete --remove-storage, each checked with virsh, qemu-img
 * and the pool directory; refusals leave the host as it was.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, lab, virsh, type RunResult } from './lab.js';
import { snapshotHost } from './host-state.js';
import { machine } from './machine.js';
import { newStateDir, removeStateDirs, start } from './reliability/harness.js';
import { parseOutput } from '../support/schemas.js';

const PREFIX = 'e2e-vm';
const POOL = `${PREFIX}-pool`;
const WEB = `${PREFIX}-web`;
const CLONE = `${PREFIX}-clone`;
const LINKED = `${PREFIX}-linked`;
const DECOY = `${PREFIX}-decoy`;
/** Names a shell or virsh's own parser would split: each must stay one name. */
const ODD = [`${PREFIX} odd;undefine ${DECOY}`, `-${PREFIX}-dash`, `${PREFIX} x&y`];
const poolDir = () => join(lab.dir, 'pools', POOL);
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1cD0ucVvcQNmYx9vM3Q0dyV3R5Z3n2mY1zR2w6h1a e2e@kvmctl';
const keys = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-vm-keys-'));
let stateDir = '';

/** The built CLI, asynchronously (guests take seconds to boot; a blocked worker misses vitest's RPC). */
function run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return start(args, { stateDir, env }).done;
}

async function runJson<T = any>(args: string[]): Promise<T> {
  const r = await run(['-o', 'json', ...args]);
  if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return parseOutput<T>(args, r.stdout);
}

function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const names = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const domains = () => names(virsh('list', '--all', '--name').stdout);
const volumes = () => names(virsh('vol-list', '--pool', POOL).stdout).slice(2).map((l) => l.split(/\s+/)[0] ?? '').sort();
const poolFiles = () => readdirSync(poolDir()).sort();
const domstate = (name: string) => virsh('domstate', '--domain', name).stdout.trim();
const macOf = (name: string) => /<mac address='([^']+)'/.exec(virsh('dumpxml', '--domain', name).stdout)?.[1];
/** Everything libvirt knows (domains, pools, volumes) and every file of the pool, with checksums. */
const state = () => snapshotHost({ dirs: [poolDir()], netns: '' });

function tool(cmd: string, ...args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function cleanup(): void {
  for (const d of domains().filter((n) => n.includes(PREFIX))) {
    virsh('destroy', '--domain', d);
    virsh('undefine', '--domain', d, '--nvram', '--snapshots-metadata');
  }
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(poolDir(), { recursive: true, force: true });
}

/** A disk-less VM booting the lab guest's kernel, defined with virsh (not kvmctl); the guest needs more than 64 MiB to boot. */
function defineWithVirsh(name: string, memMiB = 128): void {
  const esc = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
  const xml = `<domain type='qemu'><name>${esc}</name><memory unit='MiB'>${memMiB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features><devices><serial type='pty'/><console type='pty'/></devices></domain>`;
  // virsh reopens /dev/stdin, which fails on a pipe: hand it a file.
  const file = join(keys, 'define.xml');
  writeFileSync(file, xml);
  must(virsh('define', '--file', file), `define ${name}`);
}

beforeAll(() => {
  stateDir = newStateDir();
  cleanup();
  mkdirSync(poolDir(), { recursive: true });
  must(virsh('pool-define-as', POOL, 'dir', '--target', poolDir()), 'pool-define-as');
  must(virsh('pool-start', POOL), 'pool-start');
  copyFileSync(join(lab.guestDir, 'disk.qcow2'), join(poolDir(), 'base.qcow2'));
  must(virsh('pool-refresh', POOL), 'pool-refresh');
  // A public key as ssh-keygen writes it (the guest never uses it; cloud-init would).
  writeFileSync(join(keys, 'id.pub'), `${PUBLIC_KEY}\n`);
});

afterAll(() => {
  cleanup();
  rmSync(keys, { recursive: true, force: true });
  removeStateDirs();
});

const CREATE = () => ['vm', 'create', WEB, '--image', `${POOL}/base.qcow2,size=1G`, '--memory', '256M', '--ssh-key', join(keys, 'id.pub'), '--hostname', WEB];

describe('kvmctl vm (against the lab host)', () => {
  let ip = '';

  it('create from the bootable image (overlay + NAT + cloud-init seed) with --wait ip prints the address the guest leased', async () => {
    const r = await run([...CREATE(), '--wait', 'ip', '--timeout', '150']);
    // The warning and the domain type follow this machine's own KVM verdict.
    if (!machine.kvmUsable) expect(r.stderr).toMatch(/^warning: KVM is not usable .*using emulation/m);
    else expect(r.stderr).not.toMatch(/KVM is not usable/);
    expect(r.stderr).toMatch(new RegExp(`vm ${WEB} created and started \\(${machine.defaultVirtType}, 1 vCPU, 256\\.0 MiB\\); serial log: ${poolDir()}/${WEB}\\.serial\\.log`));
    expect(r.code).toBe(0);
    ip = r.stdout.trim();
    expect(ip).toMatch(/^192\.168\.122\.\d+$/);

    // libvirt's dnsmasq leased exactly that address to the VM's MAC.
    const mac = macOf(WEB);
    expect(mac).toMatch(/^52:54:00:/);
    expect(virsh('net-dhcp-leases', '--network', 'default').stdout).toMatch(new RegExp(`${mac}\\s+ipv4\\s+${ip.replace(/\./g, '\\.')}/24`));

    // The disk is a thin overlay of the base; the seed is a cidata ISO with the VM's host name.
    const info = JSON.parse(tool('qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', join(poolDir(), `${WEB}.qcow2`)).stdout);
    expect(info).toMatchObject({ 'virtual-size': 1024 ** 3, 'backing-filename': join(poolDir(), 'base.qcow2'), 'backing-filename-format': 'qcow2' });
    const seed = join(poolDir(), `${WEB}-seed.iso`);
    expect(tool('isoinfo', '-d', '-i', seed).stdout).toMatch(/^Volume id: cidata$/m);
    expect(tool('isoinfo', '-R', '-x', '/meta-data', '-i', seed).stdout).toMatch(new RegExp(`^instance-id: "[0-9a-f-]{36}"\\nlocal-hostname: "${WEB}"\\n$`));
    expect(tool('isoinfo', '-R', '-x', '/user-data', '-i', seed).stdout).toMatch(/^#cloud-config\nhostname: "e2e-vm-web"\nssh_authorized_keys:\n {2}- "ssh-ed25519 /);
    expect(volumes()).toEqual(['base.qcow2', `${WEB}-seed.iso`, `${WEB}.qcow2`]);
  });

  it('vm log shows what the guest printed on its serial console', async () => {
    const r = await run(['vm', 'log', WEB]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KVMCTL-GUEST-BOOTED$/m);
    expect(r.stdout).toContain(`KVMCTL-GUEST-IP eth0 ${ip}\n`);
    const tail = await run(['vm', 'log', WEB, '--lines', '1']);
    expect(tail.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('list, info and ip agree with virsh', async () => {
    const list = await runJson<Array<Record<string, unknown>>>(['vm', 'list']);
    const seedBytes = Number(/<capacity unit='bytes'>(\d+)</.exec(virsh('vol-dumpxml', '--pool', POOL, '--vol', `${WEB}-seed.iso`).stdout)?.[1]);
    const lease = { address: ip, prefix: 24, mac: macOf(WEB), source: 'lease' };
    expect(list.find((v) => v.name === WEB)).toEqual({
      name: WEB,
      state: 'running',
      vcpus: 1,
      memoryBytes: 256 * 1024 ** 2,
      maxMemoryBytes: 256 * 1024 ** 2,
      autostart: false,
      addresses: [lease],
      diskCount: 2,
      diskBytes: 1024 ** 3 + seedBytes,
      migrating: false,
      migratingTo: null,
    });
    const names = await run(['vm', 'list', '--state', 'running', '--name-only']);
    expect(names.stdout.split('\n')).toContain(WEB);
    const info = await runJson(['vm', 'info', WEB]);
    expect(info).toMatchObject({ name: WEB, state: 'running', reason: 'booted', virtType: machine.defaultVirtType, vcpus: 1 });
    expect(info.uuid).toBe(virsh('domuuid', '--domain', WEB).stdout.trim());
    expect(info.nics).toEqual([{ type: 'network', source: 'default', model: 'virtio', mac: macOf(WEB), addresses: [lease] }]);
    expect(info.addresses).toEqual([lease]);
    expect(await runJson(['vm', 'ip', WEB])).toEqual([{ ...lease, interface: expect.stringMatching(/^vnet\d+$/) }]);
    expect(info.disks.map((d: { target: string; device: string }) => `${d.target}:${d.device}`)).toEqual(['vda:disk', 'vdb:disk']);
    expect((await run(['vm', 'ip', WEB])).stdout).toBe(`${ip}\n`);
    expect((await run(['vm', 'xml', WEB, '--inactive'])).stdout).toBe(virsh('dumpxml', '--domain', WEB, '--inactive').stdout);
  });

  it('console attaches on a terminal (script(1) gives it one); Ctrl+] leaves', async () => {
    const command = `ip netns exec ${lab.netns} ${process.execPath} ${KVMCTL} -c '${lab.uri}' vm console ${WEB}`;
    const child = spawn('script', ['-qfc', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_STATE_DIR: stateDir } });
    let out = '';
    let leaving: NodeJS.Timeout | undefined;
    child.stdin.on('error', () => {}); // a press after virsh left has no reader
    child.stdout.on('data', (d) => {
      out += d;
      // virsh may switch the terminal to raw mode a moment after it prints this: press Ctrl+] until it leaves.
      if (!leaving && /Escape character is/.test(out)) {
        const press = () => child.stdin.write('\x1d');
        press();
        leaving = setInterval(press, 500);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    clearInterval(leaving);
    expect(out).toMatch(/connected to the serial console of e2e-vm-web; press Ctrl\+\] to leave/);
    expect(out).toMatch(/Connected to domain 'e2e-vm-web'/);
    expect(code).toBe(0);
  });

  it('create again: the same spec is "unchanged"; another spec is exit 4 and the host is untouched', async () => {
    const before = state();
    const same = await run(CREATE());
    expect([same.code, same.stdout]).toEqual([0, `vm ${WEB} unchanged (it exists with this spec)\n`]);
    // -o json: the whole VM, as vm info prints it, with changed false.
    const again = await runJson([...CREATE()]);
    expect(again).toMatchObject({ changed: false, name: WEB, state: 'running', memoryBytes: 256 * 1024 ** 2, cloudInit: null });
    expect(again.uuid).toBe(virsh('domuuid', '--domain', WEB).stdout.trim());
    const other = await run([...CREATE().map((a) => (a === '256M' ? '512M' : a))]);
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(/already exists with a different spec \(memory: 256\.0 MiB -> 512\.0 MiB\); it was left unchanged/);
    expect(state()).toEqual(before);
  });

  it('stop: the guest powers off on the ACPI request', async () => {
    const r = await run(['vm', 'stop', WEB, '--timeout', '90']);
    expect([r.code, r.stdout]).toEqual([0, `vm ${WEB} shut down\n`]);
    expect(domstate(WEB)).toBe('shut off');
    expect((await run(['vm', 'log', WEB])).stdout).toContain('KVMCTL-GUEST-POWEROFF');
    const again = await run(['vm', 'stop', WEB]);
    expect(again.stdout).toBe(`vm ${WEB} unchanged (already shutoff)\n`);
  });

  it('snapshots: create, list, revert, delete', async () => {
    must(await run(['vm', 'snapshot', 'create', WEB, 'before', '--description', 'first; snapshot']), 'snapshot create');
    const list = await runJson<Array<{ name: string; state: string; current: boolean }>>(['vm', 'snapshot', 'list', WEB]);
    expect(list.map((s) => [s.name, s.state, s.current])).toEqual([['before', 'shutoff', true]]);
    expect(virsh('snapshot-list', '--domain', WEB, '--name').stdout.trim()).toBe('before');
    const dup = await run(['vm', 'snapshot', 'create', WEB, 'before']);
    expect(dup.code).toBe(4);
    must(await run(['vm', 'snapshot', 'revert', WEB, 'before']), 'snapshot revert');
    const missing = await run(['vm', 'snapshot', 'revert', WEB, 'nosuch']);
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringMatching(/snapshot "nosuch" not found/)]);
    must(await run(['vm', 'snapshot', 'delete', WEB, 'before']), 'snapshot delete');
    expect(virsh('snapshot-list', '--domain', WEB, '--name').stdout.trim()).toBe('');
  });

  it('set changes vCPUs and memory in the definition; the same again is unchanged', async () => {
    const r = await run(['vm', 'set', WEB, '--vcpus', '2', '--memory', '384M']);
    expect([r.code, r.stdout]).toEqual([0, `vm ${WEB} set to 2 vCPUs, 384.0 MiB, from the next start\n`]);
    const xml = virsh('dumpxml', '--domain', WEB, '--inactive').stdout;
    expect(xml).toMatch(/<vcpu placement='static'>2<\/vcpu>/);
    expect(xml).toMatch(/<memory unit='KiB'>393216<\/memory>/);
    expect(xml).toMatch(/<currentMemory unit='KiB'>393216<\/currentMemory>/);
    expect((await run(['vm', 'set', WEB, '--vcpus', '2', '--memory', '384M'])).stdout).toBe(`vm ${WEB} unchanged (it already has these settings)\n`);
    must(await run(['vm', 'set', WEB, '--vcpus', '1', '--memory', '256M']), 'set back');
  });

  it('clone: a full copy with a new uuid and MAC boots on its own; a linked clone is an overlay; the source is untouched', async () => {
    const srcXml = virsh('dumpxml', '--domain', WEB, '--inactive').stdout;
    const srcDisk = state().files[join(poolDir(), `${WEB}.qcow2`)];
    // -o json: the new VM as it was defined.
    const copy = await runJson(['vm', 'clone', WEB, CLONE]);
    expect(copy).toMatchObject({ changed: true, name: CLONE, state: 'shutoff', snapshots: [] });
    expect(copy.uuid).toBe(virsh('domuuid', '--domain', CLONE).stdout.trim());
    const linked = await run(['vm', 'clone', WEB, LINKED, '--linked']);
    expect(linked.code).toBe(0);
    expect(linked.stderr).toMatch(/the disks of e2e-vm-web are now the base images of e2e-vm-linked's overlays/);

    expect(virsh('dumpxml', '--domain', WEB, '--inactive').stdout).toBe(srcXml);
    expect(state().files[join(poolDir(), `${WEB}.qcow2`)]).toBe(srcDisk);
    expect(virsh('domuuid', '--domain', CLONE).stdout).not.toBe(virsh('domuuid', '--domain', WEB).stdout);
    expect(macOf(CLONE)).not.toBe(macOf(WEB));
    const full = JSON.parse(tool('qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', join(poolDir(), `${CLONE}.qcow2`)).stdout);
    expect(full['backing-filename']).toBeUndefined();
    const overlay = JSON.parse(tool('qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', join(poolDir(), `${LINKED}.qcow2`)).stdout);
    expect(overlay['backing-filename']).toBe(join(poolDir(), `${WEB}.qcow2`));
    // Each clone gets its own seed (a new instance-id and its own host name), never the source's.
    const cloneDisks = virsh('domblklist', '--domain', CLONE).stdout;
    expect(cloneDisks).toContain(join(poolDir(), `${CLONE}-seed.iso`));
    expect(cloneDisks).not.toContain(`${WEB}-seed.iso`);
    expect(tool('isoinfo', '-R', '-x', '/meta-data', '-i', join(poolDir(), `${LINKED}-seed.iso`)).stdout).toBe(
      `instance-id: "${virsh('domuuid', '--domain', LINKED).stdout.trim()}"\nlocal-hostname: "${LINKED}"\n`,
    );

    must(await run(['vm', 'start', CLONE]), 'start clone');
    const cloneIp = must(await run(['vm', 'wait', CLONE, '--for', 'ip', '--timeout', '150']), 'wait clone').trim();
    expect(cloneIp).toMatch(/^192\.168\.122\.\d+$/);
    expect(virsh('net-dhcp-leases', '--network', 'default').stdout).toMatch(new RegExp(`${macOf(CLONE)}\\s+ipv4\\s+${cloneIp.replace(/\./g, '\\.')}/`));
    expect((await run(['vm', 'log', CLONE])).stdout).toContain('KVMCTL-GUEST-BOOTED');
  });

  it('delete: refused while running; --remove-storage keeps a disk another volume is based on and names it', async () => {
    const before = state();
    const refused = await run(['vm', 'delete', CLONE, '--remove-storage']);
    expect([refused.code, refused.stderr]).toEqual([5, expect.stringMatching(/VM "e2e-vm-clone" is running; it was left unchanged/)]);
    expect(state()).toEqual(before);

    const web = await run(['vm', 'delete', WEB, '--remove-storage']);
    expect(web.code).toBe(0);
    expect(web.stdout).toBe(`vm ${WEB} deleted\n  removed ${POOL}/${WEB}-seed.iso\n  kept ${POOL}/${WEB}.qcow2: base image of ${POOL}/${LINKED}.qcow2\n`);

    const clone = await run(['vm', 'delete', CLONE, '--force', '--remove-storage', '-o', 'json']);
    expect(parseOutput(['vm', 'delete', CLONE], clone.stdout)).toEqual({
      changed: true,
      name: CLONE,
      removed: [
        { target: 'vda', pool: POOL, volume: `${CLONE}.qcow2`, path: join(poolDir(), `${CLONE}.qcow2`) },
        { target: 'vdb', pool: POOL, volume: `${CLONE}-seed.iso`, path: join(poolDir(), `${CLONE}-seed.iso`) },
      ],
      kept: [],
    });
    must(await run(['vm', 'delete', LINKED, '--remove-storage']), 'delete linked');

    // What should remain: the base image, and the source disk kept for the linked clone (now gone too).
    expect(domains().filter((d) => d.startsWith(PREFIX))).toEqual([]);
    expect(volumes()).toEqual(['base.qcow2', `${WEB}.qcow2`]);
    expect(poolFiles()).toEqual(['base.qcow2', `${WEB}.qcow2`]);
    const gone = await run(['vm', 'delete', WEB]);
    expect([gone.code, gone.stderr]).toEqual([3, expect.stringMatching(/VM "e2e-vm-web" not found/)]);
  });

  it('VMs with odd names are listed, stopped and deleted without touching any other VM', async () => {
    defineWithVirsh(DECOY);
    for (const name of ODD) defineWithVirsh(name);
    const decoy = virsh('dumpxml', '--domain', DECOY, '--inactive').stdout;
    const [odd, dash, amp] = ODD as [string, string, string];
    must(virsh('start', '--domain', odd), 'virsh start');

    const list = await runJson<Array<{ name: string; state: string }>>(['vm', 'list']);
    expect(list.filter((v) => v.name.includes(PREFIX)).map((v) => [v.name, v.state])).toEqual(
      [[DECOY, 'shutoff'], [odd, 'running'], [amp, 'shutoff'], [dash, 'shutoff']].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '')),
    );
    const info = await runJson(['vm', 'info', '--', odd]);
    expect(info).toMatchObject({ name: odd, state: 'running' });

    // The guest needs a moment to boot before it handles ACPI; stop asks again until it does.
    const stop = await run(['vm', 'stop', '--timeout', '90', '--', odd]);
    expect([stop.code, stop.stdout]).toEqual([0, `vm ${odd} shut down\n`]);
    for (const name of ODD) {
      const r = await run(['vm', 'delete', '--', name]);
      expect([r.code, r.stdout]).toEqual([0, `vm ${name} deleted\n  its disks were kept (add --remove-storage to remove them)\n`]);
    }
    expect(domains().filter((d) => d.includes(PREFIX))).toEqual([DECOY]);
    expect(virsh('dumpxml', '--domain', DECOY, '--inactive').stdout).toBe(decoy);
    virsh('undefine', '--domain', DECOY);
  });

  it('refusals and --print-xml / --dry-run leave the host as it was', async () => {
    const before = state();
    const cases: Array<[string[], number, RegExp]> = [
      [['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/nosuch.qcow2`], 3, /base image e2e-vm-pool\/nosuch\.qcow2 not found/],
      [['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2`, '--network', 'network=nosuch'], 3, /network "nosuch" not found/],
      // A refusal only where this machine cannot run kvm guests.
      ...(machine.kvmUsable ? [] : [[['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2`, '--virt-type', 'kvm'], 5, /KVM is not usable here/] as [string[], number, RegExp]]),
      [['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2`, '--boot', 'uefi'], 5, /no UEFI firmware is installed/],
      [['vm', 'create', `${PREFIX}/x`, '--image', `${POOL}/base.qcow2`], 2, /invalid VM name/],
      [['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2,size=1M`], 2, /smaller than the base image/],
      [['vm', 'console', WEB], 2, /vm console needs a terminal[\s\S]*kvmctl (-c \S+ )?vm log/],
      [['vm', 'start', `${PREFIX}-nosuch`], 3, /VM "e2e-vm-nosuch" not found/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(code);
    }
    const xml = await run(['vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2`, '--ssh-key', join(keys, 'id.pub'), '--print-xml']);
    expect(xml.code).toBe(0);
    expect(xml.stdout).toMatch(new RegExp(`^<domain type="${machine.defaultVirtType}">`));
    expect(xml.stderr).toMatch(/would create volume e2e-vm-pool\/e2e-vm-x-seed\.iso/);
    // What --print-xml prints is a domain libvirt's schema accepts.
    const file = join(keys, 'x.xml');
    writeFileSync(file, xml.stdout);
    expect(tool('virt-xml-validate', file, 'domain').code).toBe(0);
    const dry = await run(['--dry-run', 'vm', 'create', `${PREFIX}-x`, '--image', `${POOL}/base.qcow2`, '--ssh-key', join(keys, 'id.pub')]);
    expect(dry.code).toBe(0);
    const planned = dry.stderr.split('\n').filter((l) => l.startsWith('[dry-run] would run:')).map((l) => l.replace(/^.* -c \S+ /, '').split(' ')[0]);
    expect(planned).toEqual(['vol-create', 'vol-create', 'vol-upload', 'define', 'start']);
    expect(state()).toEqual(before);
  });
});
