/**
 * The e2e tests' view of the lab: its URI and namespace, the built CLI run as a
 * subprocess inside the lab's network namespace, and virsh for independent checks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseOutput } from '../support/schemas.js';

export const LAB_NAME = process.env.KVMCTL_LAB ?? 'kvmlab';
export const LAB_SCRIPT = resolve('scripts/lab.sh');
export const KVMCTL = resolve('bin/kvmctl');

const cache = new Map<string, string>();

function labValue(what: string, ...args: string[]): string {
  const key = [what, ...args].join(' ');
  let v = cache.get(key);
  if (v === undefined) {
    v = execFileSync('bash', [LAB_SCRIPT, what, ...args], { encoding: 'utf8' }).trim();
    cache.set(key, v);
  }
  return v;
}

export const lab = {
  get uri(): string {
    return labValue('uri', LAB_NAME);
  },
  get netns(): string {
    return labValue('netns', LAB_NAME);
  },
  /** vmlinuz, initrd.img and the bootable disk.qcow2 of the lab's tiny guest. */
  get guestDir(): string {
    return labValue('guest-path');
  },
  /** The Debian 12 cloud image `scripts/lab.sh cloud-image` builds (built on first use: about 3 minutes). */
  get cloudImage(): string {
    return labValue('cloud-path');
  },
  /** The lab's own folder; its pools/ subfolder is the same path for libvirtd and for the tests. */
  get dir(): string {
    return resolve(labValue('uri', LAB_NAME).replace(/^.*socket=/, ''), '../..');
  },
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Network namespace to run in (default: the lab's). */
  netns?: string | null;
  /** Libvirt URI (default: the lab's); null for none. */
  uri?: string | null;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Runs the built CLI like a user would: a separate process, inside the lab's netns. */
export function kvmctl(args: string[], opts: RunOptions = {}): RunResult {
  const netns = opts.netns === undefined ? lab.netns : opts.netns;
  const uri = opts.uri === undefined ? lab.uri : opts.uri;
  const argv = [...(uri ? ['-c', uri] : []), ...args];
  const [cmd, cmdArgs] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, KVMCTL, ...argv]] : [process.execPath, [KVMCTL, ...argv]];
  // The URI comes only from -c (or the test's own env), never from the caller's environment.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  for (const k of ['KVMCTL_URI', 'LIBVIRT_DEFAULT_URI'] as const) if (!opts.env?.[k]) delete env[k];
  const r = spawnSync(cmd, cmdArgs as string[], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 170_000,
    env,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** kvmctl ... -o json, parsed; fails the test with stderr when it does not exit 0. */
export function kvmctlJson<T = any>(args: string[], opts: RunOptions = {}): T {
  const r = kvmctl([...args, '-o', 'json'], opts);
  if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return parseOutput<T>(args, r.stdout);
}

/** virsh against the lab, for checks that do not go through kvmctl. */
export function virsh(...args: string[]): RunResult {
  const r = spawnSync('virsh', ['-c', lab.uri, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Defines (with virsh, not kvmctl) a VM of type qemu (the lab has no usable KVM)
 * whose one disk is the given file; the XML goes through a file in `dir`.
 */
export function defineDiskVm(name: string, disk: string, format: string, dir: string): void {
  const xml = `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='${format}'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`;
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  const r = virsh('define', '--file', file);
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`virsh define ${name}: ${r.stderr}`);
}

/** Runs a command inside a network namespace. */
export function inNetns(netns: string, cmd: string, ...args: string[]): RunResult {
  const r = spawnSync('ip', ['netns', 'exec', netns, cmd, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
