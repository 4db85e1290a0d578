/**
 * scripts/lab.sh on a machine whose own libvirt holds objects: a defined and
 * autostarted domain, network and storage pool, and a secret. The machine is
 * simulated in a private mount namespace of this test, where a folder of the
 * test is bind-mounted over /etc/libvirt; the machine's real /etc/libvirt is
 * never written. A second lab, of this test's own, is started and stopped inside
 * that namespace; it must take only the daemon configuration and none of the objects.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_NAME, LAB_SCRIPT } from './lab.js';
import { hashFiles } from './host-state.js';

const NAME = `${LAB_NAME}-own`;
const work = mkdtempSync(join(tmpdir(), 'kvmctl-lab-machine-'));
const machineEtc = join(work, 'etc-libvirt');
const machineImages = join(work, 'images');
const hookRan = join(work, 'machine-hook-ran');
let machineShell: ChildProcessWithoutNullStreams | undefined;
let shellExited = false;
const labValue = (what: string) => spawnSync('bash', [LAB_SCRIPT, what, NAME], { encoding: 'utf8' }).stdout.trim();
const uri = labValue('uri');
const labDir = uri.replace(/^.*socket=/, '').replace(/\/run\/libvirt-sock$/, '');
const virshLab = (...args: string[]) => spawnSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
const names = (...args: string[]) => {
  const r = virshLab(...args);
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
};

/** A machine's /etc/libvirt as libvirt-daemon-system leaves it, plus objects a sysadmin defined. */
function makeMachineConfig(): void {
  const w = (path: string, text: string) => {
    mkdirSync(join(machineEtc, path, '..'), { recursive: true });
    writeFileSync(join(machineEtc, path), text);
  };
  mkdirSync(machineImages);
  writeFileSync(join(machineImages, 'machine-vm.qcow2'), 'the machine VM disk: must stay as it is\n');
  w('libvirtd.conf', '# the machine libvirtd.conf\nmax_clients = 123\n');
  w('qemu.conf', '# the machine qemu.conf\n');
  w('libvirt.conf', '# the machine libvirt.conf\n');
  w('qemu/machine-vm.xml', `<domain type='qemu'><name>machine-vm</name><uuid>6b1c3d1e-6b2f-4c4a-9a57-3a3d2f0c0a11</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${machineImages}/machine-vm.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>\n`);
  mkdirSync(join(machineEtc, 'qemu', 'autostart'));
  symlinkSync('../machine-vm.xml', join(machineEtc, 'qemu', 'autostart', 'machine-vm.xml'));
  w('qemu/networks/machine-net.xml', "<network><name>machine-net</name><uuid>0f4b0a4e-1c55-4f6e-8d0b-5b8f1f3a2b22</uuid><bridge name='mvirbr7'/><ip address='10.254.7.1' netmask='255.255.255.0'/></network>\n");
  mkdirSync(join(machineEtc, 'qemu', 'networks', 'autostart'));
  symlinkSync('../machine-net.xml', join(machineEtc, 'qemu', 'networks', 'autostart', 'machine-net.xml'));
  w('storage/machine-pool.xml', `<pool type='dir'><name>machine-pool</name><uuid>2d7a9f3c-5e1b-4b8e-9c3d-7f6a5b4c3d33</uuid><target><path>${machineImages}</path></target></pool>\n`);
  mkdirSync(join(machineEtc, 'storage', 'autostart'));
  symlinkSync('../machine-pool.xml', join(machineEtc, 'storage', 'autostart', 'machine-pool.xml'));
  w('secrets/4e1d2c3b-0a9f-4e8d-8c7b-6a5f4e3d2c44.xml', "<secret ephemeral='no' private='yes'><uuid>4e1d2c3b-0a9f-4e8d-8c7b-6a5f4e3d2c44</uuid></secret>\n");
  w('secrets/4e1d2c3b-0a9f-4e8d-8c7b-6a5f4e3d2c44.base64', 'c2VjcmV0\n');
  // libvirtd runs this hook when it starts: it must not be the lab's.
  w('hooks/daemon', `#!/bin/sh\ntouch '${hookRan}'\n`);
  spawnSync('chmod', ['+x', join(machineEtc, 'hooks', 'daemon')]);
  // A FIFO with a config name: reading it would hang the lab's start.
  expect(spawnSync('mkfifo', [join(machineEtc, 'stuck.conf')]).status).toBe(0);
}

/**
 * A shell in a private mount namespace where machineEtc is /etc/libvirt: it starts
 * the lab, says "up", and takes the lab down when told (the lab's network
 * namespace is mounted only there).
 */
function startMachineShell(): { shell: ChildProcessWithoutNullStreams; output: () => string; waitFor: (line: string) => Promise<void> } {
  const script = `set -e
mount --bind "$1" /etc/libvirt
bash "$2" up "$3" >/dev/null
echo up
read -r _
bash "$2" down "$3"
echo down`;
  const shell = (machineShell = spawn('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script, 'bash', machineEtc, LAB_SCRIPT, NAME], { stdio: 'pipe' }));
  let out = '';
  shell.on('exit', () => (shellExited = true));
  shell.stdout.on('data', (d) => (out += d));
  shell.stderr.on('data', (d) => (out += d));
  const waitFor = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (new RegExp(`^${line}$`, 'm').test(out) ? resolve() : undefined);
      shell.stdout.on('data', check);
      shell.on('exit', (code) => (new RegExp(`^${line}$`, 'm').test(out) ? resolve() : reject(new Error(`the machine shell exited ${code} before "${line}":\n${out}`))));
      check();
    });
  return { shell, output: () => out, waitFor };
}

afterAll(async () => {
  // If the test failed midway: the machine shell takes its lab down; failing that, this does
  // (the lab's processes are found by pid from here too).
  if (machineShell && !shellExited) {
    const shell = machineShell;
    shell.stdin.on('error', () => undefined);
    await new Promise((resolve) => {
      shell.on('exit', resolve);
      shell.stdin.end('down\n');
    });
  }
  if (readdirSync(join(labDir, '..')).includes(NAME)) spawnSync('bash', [LAB_SCRIPT, 'down', NAME], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
});

describe('scripts/lab.sh on a machine with its own libvirt objects', () => {
  it("takes only the daemon configuration: the lab has none of the machine's domains, networks, pools or secrets, and the machine's files are unchanged", async () => {
    makeMachineConfig();
    const machineBefore = hashFiles(machineEtc);
    const imagesBefore = hashFiles(machineImages);
    const realBefore = hashFiles('/etc/libvirt');

    const m = startMachineShell();
    await m.waitFor('up');

    // The lab runs, with only what it made itself: its default network, from the package's definition.
    expect(names('list', '--all', '--name')).toEqual([]);
    expect(names('net-list', '--all', '--name')).toEqual(['default']);
    expect(names('net-dumpxml', 'default').join('\n')).toMatch(/<bridge name='virbr0'/);
    expect(names('pool-list', '--all', '--name')).toEqual([]);
    expect(names('secret-list')).toEqual([]);
    // Its configuration folder holds the machine's *.conf files (the FIFO skipped), then only what the lab daemon wrote.
    const labEtc = join(labDir, 'etc');
    const labFiles = Object.keys(hashFiles(labEtc)).map((p) => p.slice(labEtc.length + 1));
    expect(labFiles.filter((p) => !p.includes('/') && p.endsWith('.conf')).sort()).toEqual(['libvirt.conf', 'libvirtd.conf', 'qemu.conf', 'virtlogd.conf']);
    expect(labFiles.filter((p) => /machine|4e1d2c3b|hooks|storage|stuck/.test(p))).toEqual([]);
    expect(labFiles.filter((p) => p.startsWith('qemu/networks/')).sort()).toEqual(['qemu/networks/autostart', 'qemu/networks/autostart/default.xml', 'qemu/networks/default.xml']);
    expect(readFileSync(join(labEtc, 'libvirtd.conf'), 'utf8')).toMatch(/^# the machine libvirtd.conf\nmax_clients = 123\n[\s\S]*log_outputs=/);
    // What libvirtd wrote into its own folders stays in the lab's, not the machine's.
    expect(hashFiles(machineEtc)).toEqual(machineBefore);

    m.shell.stdin.write('down\n');
    await m.waitFor('down');
    expect(readdirSync(join(labDir, '..'))).not.toContain(NAME);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`^kvmctl-${NAME}\\b`, 'm'));

    // The simulated machine's files, its VM's disk and the real /etc/libvirt are as they were.
    expect(hashFiles(machineEtc)).toEqual(machineBefore);
    expect(hashFiles(machineImages)).toEqual(imagesBefore);
    expect(existsSync(hookRan)).toBe(false);
    expect(hashFiles('/etc/libvirt')).toEqual(realBefore);
  });
});
