/** The KVM verdict: from this machine's /proc, /sys and /dev, or from a remote host's libvirt (recorded capabilities). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCapabilities, parseHostModelFeatures, offeredDomainTypes } from '../../../src/libvirt/capabilities.js';
import { assessFromLibvirt, assessVirtualization } from '../../../src/host/virtualization.js';

const rec = (f: string) => readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), 'utf8');

/**
 * The verdict on every kind of machine, through the filesystem seam (/proc/cpuinfo,
 * /dev/kvm, /proc/modules) and libvirt's capabilities as recorded on such a machine
 * (test/fixtures/recorded/machine). CI machines differ: e2e tests read these facts
 * from the machine they run on; these tests hold every variant.
 */

describe('assessVirtualization', () => {
  const cpu = (flags: string) => `processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu ${flags} sse2\n`;

  it('a /dev/kvm without vmx/svm is not usable: guests must be emulated', () => {
    const v = assessVirtualization({ cpuinfo: cpu(''), devKvmPresent: true, devKvmAccessible: true });
    expect(v.kvmUsable).toBe(false);
    expect(v.reason).toMatch(/no vmx\/svm flag, so \/dev\/kvm cannot run guests: they must be emulated/);
  });

  it('vmx + accessible /dev/kvm is usable; nested read from the module parameter', () => {
    const v = assessVirtualization({ cpuinfo: cpu('vmx'), modules: 'kvm_intel 409600 0 - Live 0x0\nkvm 1142784 1 kvm_intel, Live 0x0\n', devKvmPresent: true, devKvmAccessible: true, nestedIntel: 'Y\n' });
    expect(v).toMatchObject({ kvmUsable: true, cpuFlag: 'vmx', kvmModules: ['kvm_intel', 'kvm'], nested: true, cpuModel: 'Test CPU' });
  });

  it('svm without /dev/kvm says which module to load; no access says to join kvm', () => {
    expect(assessVirtualization({ cpuinfo: cpu('svm'), devKvmPresent: false, devKvmAccessible: false }).reason).toMatch(/modprobe kvm_amd/);
    expect(assessVirtualization({ cpuinfo: cpu('svm'), devKvmPresent: true, devKvmAccessible: false }).reason).toMatch(/kvm group/);
  });
});

describe('virtualization verdict from libvirt', () => {
  it('a host with /dev/kvm but no vmx/svm: libvirt offers kvm, yet guests must be emulated', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities-devkvm.xml'));
    const v = assessFromLibvirt(caps, offeredDomainTypes(caps), await parseHostModelFeatures(rec('virsh-domcapabilities-kvm-devkvm.xml')));
    expect(v).toMatchObject({ source: 'libvirt', cpuModel: 'AMD kvm64', libvirtOffersKvm: true, nested: false, kvmUsable: false });
    expect(v.cpuFlag).toBeUndefined();
    expect(v.devKvmPresent).toBeUndefined();
    expect(v.reason).toMatch(/no vmx\/svm flag \(libvirt capabilities\), so the kvm domain type its libvirt offers cannot run guests/);
  });

  it('a host without kvm domains (recorded without /dev/kvm)', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities.xml'));
    const v = assessFromLibvirt(caps, offeredDomainTypes(caps), await parseHostModelFeatures(rec('virsh-domcapabilities-kvm.stdout')));
    expect(v).toMatchObject({ libvirtOffersKvm: false, kvmUsable: false });
    expect(v.nested).toBeUndefined();
    expect(v.reason).toMatch(/no hardware virtualization \(no vmx\/svm in libvirt capabilities\)/);
  });

  it('vmx in the capabilities and kvm offered: usable; vmx without kvm: says what to load', async () => {
    const caps = await parseCapabilities(rec('virsh-capabilities-devkvm.xml'));
    const withVmx = { ...caps, hostCpuFeatures: [...caps.hostCpuFeatures, 'vmx'] };
    expect(assessFromLibvirt(withVmx, ['qemu', 'kvm'], ['vmx'])).toMatchObject({ cpuFlag: 'vmx', kvmUsable: true, nested: true });
    expect(assessFromLibvirt(withVmx, ['qemu'], []).reason).toMatch(/load kvm_intel on it/);
  });
});
