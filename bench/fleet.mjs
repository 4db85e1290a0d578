// The benchmark's VMs on the lab host: a directory pool of qcow2 disks, N inactive
// domains (one disk, one NIC each) and a few running ones that boot the lab's guest.
// Every object is named with the bench- prefix and removed by removeFleet().
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POOL = 'bench-pool';
/** Empty pools beside bench-pool, so that pool list shows ten. */
export const EXTRA_POOLS = Array.from({ length: 9 }, (_, i) => `bench-extra-${i + 1}`);
/** The pool `pool delete --purge` is timed on; made anew for every run. */
export const PURGE_POOL = 'bench-purge';
const INACTIVE = /^bench-vm-\d{4}$/;
const RUNNING = /^bench-run-\d$/;
// Names and paths go into XML and virsh command lines unquoted: allow only what needs no escaping.
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

export const inactiveName = (i) => `bench-vm-${String(i).padStart(4, '0')}`;
export const runningName = (i) => `bench-run-${i}`;

export class Fleet {
  constructor({ uri, labDir, guestDir, log, shouldStop = () => false }) {
    for (const p of [labDir, guestDir]) if (!SAFE_PATH.test(p)) throw new Error(`path ${JSON.stringify(p)} has characters the benchmark does not quote`);
    this.uri = uri;
    this.poolDir = join(labDir, 'pools', POOL);
    this.poolsDir = join(labDir, 'pools');
    this.consoleDir = join(labDir, 'bench-console');
    this.guestDir = guestDir;
    this.log = log;
    this.shouldStop = shouldStop;
    this.inactive = 0;
    this.running = [];
  }

  virsh(args, input) {
    const r = spawnSync('virsh', ['-q', '-c', this.uri, ...args], { encoding: 'utf8', input, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`virsh ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** One virsh process reads the commands from stdin; virsh keeps going after a failed one, so stderr is checked. */
  virshBatch(lines) {
    if (lines.length === 0) return;
    const r = spawnSync('virsh', ['-q', '-c', this.uri], { encoding: 'utf8', input: lines.join('\n') + '\n', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 });
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    if (r.status !== 0 || errors.length > 0) throw new Error(`virsh batch (${lines[0]} ...) failed: ${errors.slice(0, 3).join(' | ') || r.stderr.trim()}`);
    return r.stdout;
  }

  domainNames() {
    return this.virsh(['list', '--all', '--name']).split('\n').map((l) => l.trim()).filter(Boolean);
  }

  createPool() {
    mkdirSync(this.poolDir, { recursive: true });
    mkdirSync(this.consoleDir, { recursive: true });
    this.virsh(['pool-define-as', POOL, 'dir', '--target', this.poolDir]);
    this.virsh(['pool-start', POOL]);
    for (const pool of EXTRA_POOLS) this.definePool(pool);
  }

  definePool(pool) {
    const dir = join(this.poolsDir, pool);
    mkdirSync(dir, { recursive: true });
    this.virsh(['pool-define-as', pool, 'dir', '--target', dir]);
    this.virsh(['pool-start', pool]);
    return dir;
  }

  /** A pool of n empty volume files (made in its directory, seen by libvirt when the pool starts). */
  createPurgePool(n) {
    this.removePool(PURGE_POOL);
    const dir = join(this.poolsDir, PURGE_POOL);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < n; i++) closeSync(openSync(join(dir, `v${String(i).padStart(5, '0')}.img`), 'wx'));
    this.definePool(PURGE_POOL);
    return Array.from({ length: n }, (_, i) => `v${String(i).padStart(5, '0')}.img`);
  }

  removePool(pool) {
    const pools = this.virsh(['pool-list', '--all', '--name']).split('\n').map((l) => l.trim());
    if (pools.includes(pool)) {
      const active = this.virsh(['pool-list', '--name']).split('\n').map((l) => l.trim());
      if (active.includes(pool)) this.virsh(['pool-destroy', pool]);
      this.virsh(['pool-undefine', pool]);
    }
    rmSync(join(this.poolsDir, pool), { recursive: true, force: true });
  }

  /** Takes over what an earlier run left (--keep-labs) when it is exactly n inactive VMs in a started pool and nothing else of ours. */
  reuse(n) {
    let names;
    try {
      names = this.domainNames();
    } catch {
      return false;
    }
    const inactive = names.filter((x) => INACTIVE.test(x));
    const want = Array.from({ length: n }, (_, i) => inactiveName(i + 1));
    if (names.some((x) => RUNNING.test(x)) || inactive.length !== n || !want.every((x) => inactive.includes(x))) return false;
    if (!this.virsh(['pool-list', '--name']).split('\n').map((l) => l.trim()).includes(POOL)) return false;
    this.inactive = n;
    this.log(`reusing the ${n} inactive VMs left on ${this.uri}`);
    return true;
  }

  /** Grows the set of inactive VMs to n: qemu-img create for each disk, then one virsh process defines them all. */
  async growTo(n) {
    const names = [];
    for (let i = this.inactive + 1; i <= n; i++) names.push(inactiveName(i));
    if (names.length === 0) return;
    const started = Date.now();
    await runLimited(
      names.map((name) => ['qemu-img', ['create', '-q', '-f', 'qcow2', join(this.poolDir, `${name}.qcow2`), '1G']]),
      4,
    );
    const xmlDir = mkdtempSync(join(tmpdir(), 'kvmctl-bench-xml-'));
    try {
      const lines = names.map((name, k) => {
        const file = join(xmlDir, `${name}.xml`);
        writeFileSync(file, domainXml({ name, disk: join(this.poolDir, `${name}.qcow2`), mac: macFor(this.inactive + k + 1) }));
        return `define ${file}`;
      });
      this.virshBatch(lines);
    } finally {
      rmSync(xmlDir, { recursive: true, force: true });
    }
    this.virsh(['pool-refresh', POOL]);
    this.inactive = n;
    this.log(`defined ${names.length} inactive VMs (now ${n}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /** Starts `count` VMs booting the lab's guest from a qcow2 overlay, and waits for their boot marker. */
  async startRunning(count) {
    const base = join(this.guestDir, 'disk.qcow2');
    for (let i = 1; i <= count; i++) {
      const name = runningName(i);
      const disk = join(this.poolDir, `${name}.qcow2`);
      const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, disk], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`qemu-img create ${disk} failed: ${r.stderr.trim()}`);
      const xmlDir = mkdtempSync(join(tmpdir(), 'kvmctl-bench-xml-'));
      try {
        const file = join(xmlDir, `${name}.xml`);
        writeFileSync(
          file,
          domainXml({ name, disk, mac: macFor(9000 + i), kernel: join(this.guestDir, 'vmlinuz'), initrd: join(this.guestDir, 'initrd.img'), consoleLog: join(this.consoleDir, `${name}.log`) }),
        );
        this.virsh(['define', file]);
      } finally {
        rmSync(xmlDir, { recursive: true, force: true });
      }
      this.virsh(['start', '--domain', name]);
      this.running.push(name);
    }
    this.virsh(['pool-refresh', POOL]);
    const deadline = Date.now() + 120_000;
    for (const name of this.running) {
      const log = join(this.consoleDir, `${name}.log`);
      while (!(existsSync(log) && readFileSync(log, 'latin1').includes('KVMCTL-GUEST-BOOTED'))) {
        if (this.shouldStop()) throw new Error('interrupted');
        if (Date.now() > deadline) throw new Error(`${name} did not print KVMCTL-GUEST-BOOTED within 120 s (see ${log})`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.log(`started ${count} VMs; their guests booted`);
  }

  /** Removes every bench- domain, the bench pool and its files, including leftovers of an interrupted run. */
  remove() {
    let names = [];
    try {
      names = this.domainNames();
    } catch (err) {
      this.log(`warning: cannot list domains to clean up: ${err.message}`);
      return;
    }
    const running = new Set(this.virsh(['list', '--name']).split('\n').map((l) => l.trim()));
    const ours = names.filter((n) => INACTIVE.test(n) || RUNNING.test(n));
    const lines = [...ours.filter((n) => running.has(n)).map((n) => `destroy --domain ${n}`), ...ours.map((n) => `undefine --domain ${n}`)];
    if (lines.length > 0) this.virshBatch(lines);
    for (const pool of [POOL, ...EXTRA_POOLS, PURGE_POOL]) this.removePool(pool);
    rmSync(this.consoleDir, { recursive: true, force: true });
    if (ours.length > 0) this.log(`removed ${ours.length} bench VMs and pool ${POOL}`);
    this.inactive = 0;
    this.running = [];
  }
}

/** A small, valid domain: emulated (type qemu), 256 MiB, 1 vCPU, one virtio disk, one NIC on the default network. */
function domainXml({ name, disk, mac, kernel, initrd, consoleLog }) {
  const boot = kernel
    ? `    <kernel>${kernel}</kernel>\n    <initrd>${initrd}</initrd>\n    <cmdline>console=ttyS0</cmdline>\n`
    : `    <boot dev='hd'/>\n`;
  const serial = consoleLog
    ? `    <serial type='pty'>\n      <log file='${consoleLog}' append='off'/>\n    </serial>\n`
    : '';
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
${boot}  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='${mac}'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
${serial}  </devices>
</domain>
`;
}

// Locally administered, unique per VM (libvirt would otherwise pick random ones).
function macFor(i) {
  const hex = i.toString(16).padStart(4, '0');
  return `52:54:00:be:${hex.slice(0, 2)}:${hex.slice(2, 4)}`;
}

async function runLimited(commands, limit) {
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const [program, args] = commands[next++];
      await new Promise((resolve, reject) => {
        const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${program} ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
