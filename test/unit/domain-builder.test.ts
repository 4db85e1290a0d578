/**
 * The domain XML builder: golden files (regenerate with UPDATE_GOLDEN=1),
 * each validated by libvirt's own schema (virt-xml-validate), and compared
 * with what virt-install --print-xml gives for the same options.
 */
import { normalizeMac } from '../../src/validate/mac.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildDomainXml,
  cloneDomainNode,
  domainFromNode,
  parseDomainXml,
  targetDevs,
  type DomainSpec,
} from '../../src/libvirt/domain-xml.js';
import { attr, child, children, decodeXml, encodeXml, path, type XmlNode } from '../../src/libvirt/xml-codec.js';

const GOLDEN = 'test/fixtures/golden/domain';
const RECORDED = 'test/fixtures/recorded/vm';
const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-domain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const P = '/var/lib/libvirt/images';

const SPECS: Record<string, DomainSpec> = {
  'overlay-seed-nat': {
    type: 'qemu',
    name: 'web1',
    uuid: '6f1c2a4e-0b7d-4c39-9a51-3f0e8d2b7c11',
    memoryBytes: 256 * 1024 ** 2,
    vcpus: 1,
    arch: 'x86_64',
    firmware: 'bios',
    bootDevices: ['hd'],
    disks: [
      { device: 'disk', path: `${P}/web1.qcow2`, format: 'qcow2', bus: 'virtio', target: 'vda' },
      { device: 'cdrom', path: `${P}/web1-seed.iso`, format: 'raw', bus: 'sata', target: 'sda' },
    ],
    interfaces: [{ type: 'network', network: 'default', mac: '52:54:00:12:34:56', model: 'virtio' }],
    graphics: 'none',
    serialLog: `${P}/web1.serial.log`,
    metadata: { seed: { pool: 'default', volume: 'web1-seed.iso' } },
  },
  'kernel-boot-no-net': {
    type: 'qemu',
    name: 'k1',
    uuid: '0d9e3c1b-5a6f-4e2d-8c7b-1a2b3c4d5e6f',
    memoryBytes: 128 * 1024 ** 2,
    vcpus: 2,
    arch: 'x86_64',
    firmware: 'bios',
    kernel: { kernel: '/srv/boot/vmlinuz', initrd: '/srv/boot/initrd.img', cmdline: 'console=ttyS0,115200 quiet' },
    bootDevices: [],
    disks: [],
    interfaces: [],
    graphics: 'none',
    serialLog: '/var/log/libvirt/qemu/k1.serial.log',
  },
  'cdrom-install-vnc-bridge': {
    type: 'qemu',
    name: 'inst1',
    uuid: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    memoryBytes: 2 * 1024 ** 3,
    vcpus: 2,
    arch: 'x86_64',
    firmware: 'bios',
    bootDevices: ['cdrom', 'hd'],
    disks: [
      { device: 'disk', path: `${P}/inst1.qcow2`, format: 'qcow2', bus: 'virtio', target: 'vda' },
      { device: 'cdrom', path: '/srv/iso/debian-12.iso', format: 'raw', bus: 'sata', target: 'sda' },
    ],
    interfaces: [{ type: 'bridge', bridge: 'br0', mac: '52:54:00:ab:cd:ef', model: 'e1000' }],
    graphics: 'vnc',
    serialLog: `${P}/inst1.serial.log`,
  },
  'uefi-kvm-spice-two-nics': {
    type: 'kvm',
    name: 'db1',
    uuid: '1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6',
    memoryBytes: 4 * 1024 ** 3,
    vcpus: 4,
    arch: 'x86_64',
    cpuMode: 'host-passthrough',
    firmware: 'efi',
    bootDevices: ['hd'],
    disks: [
      { device: 'disk', path: `${P}/db1.qcow2`, format: 'qcow2', bus: 'virtio', target: 'vda' },
      { device: 'disk', path: '/dev/vg0/db1-data', format: 'raw', bus: 'scsi', target: 'sda' },
    ],
    interfaces: [
      { type: 'network', network: 'default', mac: '52:54:00:00:00:01', model: 'virtio' },
      { type: 'bridge', bridge: 'br-storage', mac: '52:54:00:00:00:02', model: 'virtio' },
    ],
    graphics: 'spice',
    serialLog: `${P}/db1.serial.log`,
  },
};

describe('buildDomainXml golden files', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name}: matches the golden file and passes virt-xml-validate`, () => {
      const xml = encodeXml(buildDomainXml(spec));
      const file = join(GOLDEN, `${name}.xml`);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, xml);
      }
      expect(xml).toBe(readFileSync(file, 'utf8'));
      const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
      expect(r.stderr + r.stdout).toMatch(/validates/);
      expect(r.status).toBe(0);
    });
  }

  it('reads back as the same definition (name, uuid, memory, disks, NICs, serial log, seed metadata)', async () => {
    const def = await parseDomainXml(encodeXml(buildDomainXml(SPECS['overlay-seed-nat'] as DomainSpec)));
    expect(def).toMatchObject({
      type: 'qemu',
      name: 'web1',
      uuid: '6f1c2a4e-0b7d-4c39-9a51-3f0e8d2b7c11',
      memoryBytes: 256 * 1024 ** 2,
      currentMemoryBytes: 256 * 1024 ** 2,
      vcpus: 1,
      serialLogs: [`${P}/web1.serial.log`],
      kvmctl: { seed: { pool: 'default', volume: 'web1-seed.iso' } },
    });
    expect(def.disks.map((d) => [d.device, d.target.dev, d.source?.file, d.readonly])).toEqual([
      ['disk', 'vda', `${P}/web1.qcow2`, false],
      ['cdrom', 'sda', `${P}/web1-seed.iso`, true],
    ]);
    expect(def.interfaces).toEqual([{ type: 'network', source: { network: 'default' }, mac: '52:54:00:12:34:56', model: 'virtio', targetDev: undefined }]);
  });

  it('keeps hostile names and paths as data', async () => {
    const spec = { ...(SPECS['kernel-boot-no-net'] as DomainSpec), name: `a</name><devices/>&'"`, serialLog: `/tmp/x'y".log` };
    const def = await parseDomainXml(encodeXml(buildDomainXml(spec)));
    expect(def.name).toBe(`a</name><devices/>&'"`);
    expect(def.serialLogs).toEqual([`/tmp/x'y".log`]);
  });
});

/** The meaningful parts two generators must agree on. */
function essentials(root: XmlNode) {
  const devices = child(root, 'devices');
  return {
    name: child(root, 'name')?.text,
    memoryKiB: Number(child(root, 'memory')?.text),
    vcpu: Number(child(root, 'vcpu')?.text),
    boot: children(child(root, 'os'), 'boot').map((b) => attr(b, 'dev')),
    kernel: [path(root, 'os', 'kernel')?.text, path(root, 'os', 'initrd')?.text, path(root, 'os', 'cmdline')?.text],
    disks: children(devices, 'disk').map((d) => ({
      device: attr(d, 'device'),
      source: attr(child(d, 'source'), 'file'),
      target: attr(child(d, 'target'), 'dev'),
      bus: attr(child(d, 'target'), 'bus'),
      readonly: child(d, 'readonly') !== undefined,
    })),
    nics: children(devices, 'interface').map((n) => ({
      type: attr(n, 'type'),
      source: attr(child(n, 'source'), 'network') ?? attr(child(n, 'source'), 'bridge'),
      mac: attr(child(n, 'mac'), 'address'),
      model: attr(child(n, 'model'), 'type'),
    })),
    graphics: children(devices, 'graphics').map((g) => attr(g, 'type')),
    hasPtyConsole: children(devices, 'console').some((c) => attr(c, 'type') === 'pty') || children(devices, 'serial').some((c) => attr(c, 'type') === 'pty'),
  };
}

/** virt-install against libvirt's test driver (no daemon); it insists that local disk files exist. */
function virtInstall(args: string[]): string {
  return execFileSync('virt-install', ['--connect', 'test:///default', '--print-xml', '--dry-run', '--noautoconsole', '--os-variant', 'generic', ...args], { encoding: 'utf8' });
}

describe('agrees with virt-install --print-xml on the options both have', () => {
  it('an imported disk, a seed CD-ROM, a NAT NIC, no graphics', async () => {
    const disk = join(tmp, 'web1.qcow2');
    const seed = join(tmp, 'web1-seed.iso');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    writeFileSync(seed, '');
    const base = SPECS['overlay-seed-nat'] as DomainSpec;
    const spec: DomainSpec = { ...base, disks: [{ ...base.disks[0]!, path: disk }, { ...base.disks[1]!, path: seed }] };
    const theirs = await decodeXml(
      virtInstall([
        '--name', 'web1', '--memory', '256', '--vcpus', '1', '--import',
        '--disk', `path=${disk},bus=virtio,format=qcow2`, '--disk', `path=${seed},device=cdrom,bus=sata`,
        '--network', 'network=default,model=virtio,mac=52:54:00:12:34:56', '--graphics', 'none',
      ]),
    );
    expect(essentials(buildDomainXml(spec))).toEqual(essentials(theirs));
  });

  it('direct kernel boot without NICs or disks', async () => {
    const theirs = await decodeXml(
      virtInstall([
        '--name', 'k1', '--memory', '128', '--vcpus', '2', '--disk', 'none', '--network', 'none', '--graphics', 'none',
        '--boot', 'kernel=/srv/boot/vmlinuz,initrd=/srv/boot/initrd.img,kernel_args="console=ttyS0,115200 quiet"',
      ]),
    );
    expect(essentials(buildDomainXml(SPECS['kernel-boot-no-net'] as DomainSpec))).toEqual(essentials(theirs));
  });

  it('an install from CD-ROM with a bridged e1000 NIC and VNC', async () => {
    const disk = join(tmp, 'inst1.qcow2');
    const iso = join(tmp, 'debian-12.iso');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    writeFileSync(iso, '');
    const base = SPECS['cdrom-install-vnc-bridge'] as DomainSpec;
    const spec: DomainSpec = { ...base, disks: [{ ...base.disks[0]!, path: disk }, { ...base.disks[1]!, path: iso }] };
    const theirs = await decodeXml(
      virtInstall([
        // kvmctl puts CD-ROMs on SATA on every machine type; virt-install's --cdrom picks IDE for i440fx.
        '--name', 'inst1', '--memory', '2048', '--vcpus', '2', '--disk', `path=${iso},device=cdrom,bus=sata`, '--disk', `path=${disk},bus=virtio,format=qcow2`,
        '--network', 'bridge=br0,model=e1000,mac=52:54:00:ab:cd:ef', '--graphics', 'vnc', '--boot', 'cdrom,hd',
      ]),
    );
    const ours = essentials(buildDomainXml(spec));
    const other = essentials(theirs);
    // Device order differs (libvirt does not care); compare by guest device name.
    const byTarget = (d: { target?: string }[]) => [...d].sort((a, b) => String(a.target).localeCompare(String(b.target)));
    expect({ ...ours, disks: byTarget(ours.disks) }).toEqual({ ...other, disks: byTarget(other.disks) });
  });
});

describe('builder helpers', () => {
  it('names disks per bus the way virt-install does', () => {
    expect(targetDevs(['virtio', 'virtio', 'sata', 'scsi', 'ide', 'virtio'])).toEqual(['vda', 'vdb', 'sda', 'sdb', 'hda', 'vdc']);
    expect(targetDevs(Array(28).fill('virtio')).slice(24)).toEqual(['vdy', 'vdz', 'vdaa', 'vdab']);
  });

  it('accepts only unicast MACs', () => {
    expect(normalizeMac('52:54:00:AB:CD:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('01:00:5e:00:00:01')).toBeUndefined();
    expect(normalizeMac('52:54:00:ab:cd')).toBeUndefined();
    expect(normalizeMac('52-54-00-ab-cd-ef')).toBeUndefined();
    expect(normalizeMac('00:00:00:00:00:00')).toBeUndefined();
  });
});

describe('cloneDomainNode', () => {
  it("gives a recorded VM's XML a new name, uuid, MACs, disks and log, drops the seed and the metadata, keeps the rest", async () => {
    const xml = readFileSync(join(RECORDED, 'virsh-dumpxml-web-inactive.xml'), 'utf8');
    const root = await decodeXml(xml);
    const src = domainFromNode(root);
    const poolDir = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool';
    const out = cloneDomainNode(root, {
      name: 'web2',
      uuid: '11111111-2222-4333-8444-555555555555',
      disks: new Map([
        [`${poolDir}/fxvm-web.qcow2`, `${poolDir}/web2.qcow2`],
        [`${poolDir}/fxvm-web-seed.iso`, null],
      ]),
      macs: ['52:54:00:99:88:77'],
      serialLog: `${poolDir}/web2.serial.log`,
    });
    const def = domainFromNode(await decodeXml(encodeXml(out)));
    expect(def.name).toBe('web2');
    expect(def.uuid).toBe('11111111-2222-4333-8444-555555555555');
    expect(def.kvmctl).toBeUndefined();
    expect(def.disks.map((d) => [d.target.dev, d.source?.file])).toEqual([['vda', `${poolDir}/web2.qcow2`]]);
    expect(def.interfaces.map((n) => n.mac)).toEqual(['52:54:00:99:88:77']);
    expect(def.consoles?.map((c) => c.logFile)).toEqual([`${poolDir}/web2.serial.log`, `${poolDir}/web2.serial.log`]);
    // Everything else is the source's.
    expect([def.type, def.memoryBytes, def.vcpus, def.os.boot, def.interfaces[0]?.type]).toEqual([src.type, src.memoryBytes, src.vcpus, src.os.boot, 'network']);
    expect(encodeXml(out)).toContain('org.qemu.guest_agent.0');
    // The source tree is not modified.
    expect(domainFromNode(root).name).toBe('fxvm-web');
  });
});
