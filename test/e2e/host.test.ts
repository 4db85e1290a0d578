import { describe, expect, it } from 'vitest';
import { kvmctl, kvmctlJson, lab, virsh } from './lab.js';
import { libvirtDomainTypes, machine } from './machine.js';

describe('kvmctl host (against the lab host)', () => {
  it('reports the lab daemon reachable, the KVM verdict this machine calls for, and its default network and bridge', () => {
    const r = kvmctl(['host']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reachable\s+yes/);
    expect(r.stdout).toMatch(new RegExp(`KVM usable\\s+${machine.kvmUsable ? 'yes' : 'no'}: ${machine.kvmReason.source}`));
    expect(r.stdout).toMatch(/default\s+active\s+yes\s+virbr0\s+nat\s+192\.168\.122\.0\/24/);
    // virbr0 is UP while a VM is attached and DOWN (no carrier) otherwise.
    expect(r.stdout).toMatch(/^virbr0\s+(UP|DOWN)\s+1500\s+yes\s+192\.168\.122\.1\/24/m);
  });

  it('gives the same facts as JSON', () => {
    const facts = kvmctlJson(['host']);
    expect(facts.libvirt).toMatchObject({ reachable: true, uri: lab.uri });
    // As libvirt lists them: with /dev/kvm present it offers kvm even where no guest can run under it.
    expect(facts.libvirt.domainTypes).toEqual(libvirtDomainTypes());
    expect(facts.virtualization).toMatchObject({ kvmUsable: machine.kvmUsable, devKvmPresent: machine.devKvm });
    expect(facts.virtualization.cpuFlag).toBe(machine.hardwareFlag ?? null);
    expect(facts.virtualization.reason).toMatch(machine.kvmReason);
    expect(facts.networks).toContainEqual(expect.objectContaining({ name: 'default', active: true, bridge: 'virbr0', mode: 'nat', subnet: '192.168.122.0/24' }));
    expect(facts.bridges.map((b: { name: string }) => b.name)).toContain('virbr0');
    expect(facts.nat.ipForward).toBe(true);
    const masquerade = facts.nat.rules.filter((r: { target: string; owner: string }) => r.target === 'MASQUERADE');
    expect(masquerade.length).toBeGreaterThan(0);
    expect(masquerade.every((r: { owner: string }) => r.owner === 'libvirt')).toBe(true);
    // Capacity agrees with libvirt's own count of defined domains.
    const defined = virsh('list', '--all', '--name').stdout.split('\n').filter((l) => l.trim() !== '').length;
    expect(facts.capacity.defined.vms).toBe(defined);
    // Host CPUs and memory are libvirt's (nodeinfo), which can differ from /proc/meminfo.
    const nodeinfo = virsh('nodeinfo').stdout;
    expect(facts.capacity.hostCpus).toBe(Number(/^CPU\(s\):\s+(\d+)$/m.exec(nodeinfo)?.[1]));
    expect(facts.capacity.hostMemoryBytes).toBe(Number(/^Memory size:\s+(\d+) KiB$/m.exec(nodeinfo)?.[1]) * 1024);
  });

  it('host check passes on the lab (with a warning where KVM is not usable) and exits 0', () => {
    const r = kvmctl(['host', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(machine.kvmUsable ? /kvm\s+ok\s+hardware virtualization/ : new RegExp(`kvm\\s+warn\\s+KVM not usable: ${machine.kvmReason.source}`));
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
