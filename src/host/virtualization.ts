/**
 * Whether this machine can run KVM guests. /dev/kvm alone proves nothing: some
 * kernels expose it without CPU support (vmx/svm), and then a `kvm` domain
 * "starts" but never runs its guest, so guests must be emulated (type qemu).
 */
import type { LocalFs } from '../local-fs.js';
import type { Capabilities } from '../libvirt/capabilities.js';

export interface Virtualization {
  /** Where the facts come from: this machine's /proc, /sys and /dev, or the remote host's libvirt. */
  source: 'this machine' | 'libvirt';
  cpuModel?: string;
  /** The CPU flag for hardware virtualization: vmx (Intel) or svm (AMD). */
  cpuFlag?: 'vmx' | 'svm';
  /** Unknown (undefined) for a remote host: only its libvirt is asked. */
  devKvmPresent?: boolean;
  devKvmAccessible?: boolean;
  /** The hypervisor offers domain type kvm (libvirt does when it can open /dev/kvm); remote hosts only. */
  libvirtOffersKvm?: boolean;
  kvmModules: string[];
  /** Nested virtualization enabled in kvm_intel/kvm_amd; undefined when unknown. */
  nested?: boolean;
  kvmUsable: boolean;
  reason: string;
}

export interface VirtualizationInputs {
  cpuinfo?: string;
  modules?: string;
  devKvmPresent: boolean;
  devKvmAccessible: boolean;
  nestedIntel?: string;
  nestedAmd?: string;
}

export async function readVirtualizationInputs(fs: LocalFs): Promise<VirtualizationInputs> {
  const [cpuinfo, modules, devKvmPresent, devKvmAccessible, nestedIntel, nestedAmd] = await Promise.all([
    fs.read('/proc/cpuinfo'),
    fs.read('/proc/modules'),
    fs.exists('/dev/kvm'),
    fs.canReadWrite('/dev/kvm'),
    fs.read('/sys/module/kvm_intel/parameters/nested'),
    fs.read('/sys/module/kvm_amd/parameters/nested'),
  ]);
  return { cpuinfo, modules, devKvmPresent, devKvmAccessible, nestedIntel, nestedAmd };
}

export function assessVirtualization(input: VirtualizationInputs): Virtualization {
  const cpuinfo = input.cpuinfo ?? '';
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim();
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  const cpuFlag = flags.has('vmx') ? 'vmx' : flags.has('svm') ? 'svm' : undefined;
  const kvmModules = (input.modules ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((m) => /^kvm(_|$)/.test(m));
  const nestedRaw = (input.nestedIntel ?? input.nestedAmd)?.trim();
  const nested = nestedRaw === undefined ? undefined : nestedRaw === 'Y' || nestedRaw === '1';

  let kvmUsable = false;
  let reason: string;
  if (!cpuFlag && input.devKvmPresent) {
    reason = 'the CPU has no vmx/svm flag, so /dev/kvm cannot run guests: they must be emulated (domain type qemu, much slower)';
  } else if (!cpuFlag) {
    reason = 'the CPU offers no hardware virtualization (no vmx/svm flag; enable VT-x/AMD-V in firmware): guests must be emulated (domain type qemu)';
  } else if (!input.devKvmPresent) {
    reason = `the CPU has ${cpuFlag} but /dev/kvm is missing: load the module (modprobe ${cpuFlag === 'vmx' ? 'kvm_intel' : 'kvm_amd'})`;
  } else if (!input.devKvmAccessible) {
    reason = '/dev/kvm exists but this user cannot open it: run as root or join the kvm group';
  } else {
    kvmUsable = true;
    reason = `hardware virtualization (${cpuFlag}) and /dev/kvm are available`;
  }
  return { source: 'this machine', cpuModel, cpuFlag, devKvmPresent: input.devKvmPresent, devKvmAccessible: input.devKvmAccessible, kvmModules, nested, kvmUsable, reason };
}

/**
 * The verdict for a host reached through libvirt only: its CPU flags from
 * `virsh capabilities`, whether it offers domain type kvm, and (from
 * `domcapabilities --virttype kvm`) whether its host-model CPU carries vmx/svm
 * for nested guests. Nothing of this machine is read.
 */
export function assessFromLibvirt(caps: Capabilities | undefined, domainTypes: string[], hostModelFeatures: string[]): Virtualization {
  const base = { source: 'libvirt' as const, kvmModules: [] as string[] };
  if (!caps) {
    return { ...base, kvmUsable: false, reason: 'unknown: libvirt on that host did not answer, so its CPU and hypervisor are unknown' };
  }
  const features = new Set(caps.hostCpuFeatures);
  const cpuFlag = features.has('vmx') ? 'vmx' : features.has('svm') ? 'svm' : undefined;
  const offersKvm = domainTypes.includes('kvm');
  const cpuModel = [caps.hostCpuVendor, caps.hostCpuModel].filter(Boolean).join(' ') || undefined;
  const nested = offersKvm ? hostModelFeatures.includes('vmx') || hostModelFeatures.includes('svm') : undefined;
  let kvmUsable = false;
  let reason: string;
  if (!cpuFlag && offersKvm) {
    reason = "that host's CPU has no vmx/svm flag (libvirt capabilities), so the kvm domain type its libvirt offers cannot run guests: they must be emulated (domain type qemu, much slower)";
  } else if (!cpuFlag) {
    reason = "that host's CPU offers no hardware virtualization (no vmx/svm in libvirt capabilities): guests must be emulated (domain type qemu)";
  } else if (!offersKvm) {
    reason = `that host's CPU has ${cpuFlag} but its libvirt offers no kvm domains (/dev/kvm missing or not usable by libvirt there): load ${cpuFlag === 'vmx' ? 'kvm_intel' : 'kvm_amd'} on it and restart libvirtd`;
  } else {
    kvmUsable = true;
    reason = `that host's CPU has ${cpuFlag} and its libvirt offers kvm domains`;
  }
  return { ...base, cpuModel, cpuFlag, libvirtOffersKvm: offersKvm, nested, kvmUsable, reason };
}
