/**
 * What the machine the e2e tests run on can do, read from the machine itself, so
 * that expectations about KVM follow the machine: /dev/kvm may exist without
 * vmx/svm (libvirt then still offers domain type kvm), or be missing, or work.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { virsh } from './lab.js';

const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
const flag = /^flags\s*:.*\b(vmx|svm)\b/m.exec(cpuinfo)?.[1];

function accessible(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export const machine = {
  /** vmx (Intel) or svm (AMD) in /proc/cpuinfo. */
  hardwareFlag: flag,
  devKvm: existsSync('/dev/kvm'),
  devKvmAccessible: accessible('/dev/kvm'),
  get kvmUsable(): boolean {
    return flag !== undefined && this.devKvm && this.devKvmAccessible;
  },
  /** The verdict's reason kvmctl host must give for these facts. */
  get kvmReason(): RegExp {
    if (flag === undefined) return this.devKvm ? /the CPU has no vmx\/svm flag, so \/dev\/kvm cannot run guests: they must be emulated/ : /the CPU offers no hardware virtualization .*: guests must be emulated/;
    if (!this.devKvm) return /\/dev\/kvm is missing: load the module/;
    return this.devKvmAccessible ? /hardware virtualization \((vmx|svm)\) and \/dev\/kvm are available/ : /\/dev\/kvm exists but this user cannot open it/;
  },
  /** The domain type kvmctl vm create picks by default here. */
  get defaultVirtType(): 'kvm' | 'qemu' {
    return this.kvmUsable ? 'kvm' : 'qemu';
  },
};

/** The domain types libvirt's capabilities offer on the lab, as libvirt itself lists them. */
export function libvirtDomainTypes(): string[] {
  const r = virsh('capabilities');
  if (r.code !== 0) throw new Error(`virsh capabilities failed: ${r.stderr}`);
  return [...new Set([...r.stdout.matchAll(/<domain type='([^']+)'/g)].map((m) => m[1] as string))];
}
