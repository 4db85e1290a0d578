import { describe, expect, it } from 'vitest';
import { kvmctl, kvmctlJson, lab, virsh } from './lab.js';

describe('kvmctl host (against the lab host)', () => {
  it('reports the lab daemon reachable, emulation only, and its default network and bridge', () => {
    const r = kvmctl(['host']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reachable\s+yes/);
    expect(r.stdout).toMatch(/KVM usable\s+no: .*emulated/);
    expect(r.stdout).toMatch(/default\s+active\s+yes\s+virbr0\s+nat\s+192\.168\.122\.0\/24/);
    // virbr0 is UP while a VM is attached and DOWN (no carrier) otherwise.
    expect(r.stdout).toMatch(/^virbr0\s+(UP|DOWN)\s+1500\s+yes\s+192\.168\.122\.1\/24/m);
  });

  it('gives the same facts as JSON', () => {
    const facts = kvmctlJson(['host']);
    expect(facts.libvirt).toMatchObject({ reachable: true, uri: lab.uri });
    expect(facts.libvirt.domainTypes).toContain('qemu');
    expect(facts.libvirt.domainTypes).not.toContain('kvm');
    expect(facts.virtualization.kvmUsable).toBe(false);
    expect(facts.networks).toContainEqual(expect.objectContaining({ name: 'default', active: true, bridge: 'virbr0', mode: 'nat', subnet: '192.168.122.0/24' }));
    expect(facts.bridges.map((b: { name: string }) => b.name)).toContain('virbr0');
    expect(facts.nat.ipForward).toBe(true);
    const masquerade = facts.nat.rules.filter((r: { target: string; owner: string }) => r.target === 'MASQUERADE');
    expect(masquerade.length).toBeGreaterThan(0);
    expect(masquerade.every((r: { owner: string }) => r.owner === 'libvirt')).toBe(true);
    // Capacity agrees with libvirt's own count of defined domains.
    const defined = virsh('list', '--all', '--name').stdout.split('\n').filter((l) => l.trim() !== '').length;
    expect(facts.capacity.defined.vms).toBe(defined);
  });

  it('host check passes on the lab (warning about emulation) and exits 0', () => {
    const r = kvmctl(['host', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kvm\s+warn\s+KVM not usable/);
    expect(r.stdout).toMatch(/libvirt\s+ok/);
    expect(r.stdout).toMatch(/default-network\s+ok/);
  });

  it('an unreachable URI is exit 5 with the URI and how to start the daemon', () => {
    const uri = `qemu+unix:///system?socket=${lab.dir}/run/no-such-sock`;
    const r = kvmctl(['host', 'check'], { uri });
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/libvirt\s+fail\s+cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=.*no-such-sock/);
    expect(r.stdout).toMatch(/systemctl start libvirtd/);
    expect(r.stderr).toMatch(/host check: \d+ check\(s\) failed: libvirt/);
  });

  it('rejects a malformed URI and an unknown output format with exit 2 and no stack trace', () => {
    const bad = kvmctl(['host'], { uri: 'not a uri' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/malformed libvirt URI "not a uri"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const fmt = kvmctl(['host', '-o', 'yaml']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toMatch(/unknown output format "yaml".*\n.*-o table or -o json/);
  });
});
