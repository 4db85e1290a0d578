/**
 * A second opinion on the domain XML builder: virt-install --print-xml (virtinst,
 * which scripts/lab.sh install installs) against libvirt's test driver, for the
 * options both tools have.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDomainXml, type DomainSpec } from '../../src/libvirt/domain-builder.js';
import { attr, child, children, decodeXml, path, type XmlNode } from '../../src/libvirt/xml-codec.js';
import { SPECS } from '../fixtures/golden/domain/specs.js';

const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-domain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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
