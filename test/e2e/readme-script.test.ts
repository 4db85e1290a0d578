/**
 * The README's provisioning script, run exactly as it is written there (the
 * block between its provision-script markers) with bash against the lab: a
 * kvmctl on PATH that is the built CLI, the lab's URI in KVMCTL_URI, inside the
 * lab's network namespace. The VM is the lab's tiny guest (its udhcpc gets a
 * lease from the default network's dnsmasq), booted by kernel and initrd.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonError } from '../support/schemas.js';
import { KVMCTL, lab, virsh } from './lab.js';

const VM = 'readme-vm';
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-readme-'));

function readmeScript(): string {
  const readme = readFileSync('README.md', 'utf8');
  const m = /<!-- provision-script:begin -->\n```bash\n([\s\S]*?)```\n<!-- provision-script:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no provision-script block');
  return m[1]!;
}

function runScript(args: string[]): { code: number; stdout: string; stderr: string } {
  const script = join(work, 'provision.sh');
  writeFileSync(script, readmeScript());
  const r = spawnSync('ip', ['netns', 'exec', lab.netns, 'bash', script, ...args], {
    encoding: 'utf8',
    timeout: 1_200_000,
    env: { ...process.env, PATH: `${work}:${process.env.PATH}`, KVMCTL_URI: lab.uri, NO_COLOR: '1', KVMCTL_STATE_DIR: join(work, 'state') },
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const defined = () => virsh('list', '--all', '--name').stdout.split('\n').map((l) => l.trim()).filter(Boolean);
// The lab's libvirtd has no /var/log/libvirt/qemu: the serial log of a VM without disks goes to a folder of the lab.
const logDir = () => join(lab.dir, 'pools', 'readme-logs');
const create = (memory: string) => ['--boot', boot(), '--memory', memory, '--virt-type', 'qemu', '--log-dir', logDir()];
const boot = () => `kernel=${lab.guestDir}/vmlinuz,initrd=${lab.guestDir}/initrd.img,cmdline=console=ttyS0`;

beforeAll(() => {
  writeFileSync(join(work, 'kvmctl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KVMCTL)} "$@"\n`);
  chmodSync(join(work, 'kvmctl'), 0o755);
  mkdirSync(logDir(), { recursive: true });
  virsh('net-start', 'default');
  expect(defined()).not.toContain(VM);
});

afterAll(() => {
  virsh('destroy', '--domain', VM);
  virsh('undefine', '--domain', VM);
  rmSync(work, { recursive: true, force: true });
  rmSync(logDir(), { recursive: true, force: true });
});

describe("the README's provisioning script", () => {
  it('creates the VM, waits for its address, prints it, and leaves nothing behind', () => {
    const r = runScript([VM, ...create('128M')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${VM} is up at 192\\.168\\.122\\.\\d+\\n$`));
    expect(defined()).not.toContain(VM);
  }, 1_300_000);

  it('stops at a vm create usage error with its exit code and error object, and creates nothing', () => {
    const r = runScript([VM, ...create('128')]);
    expect(r.code).toBe(2);
    const last = parseJsonError(r.stderr);
    expect(last.error).toMatchObject({ code: 'usage', exit: 2 });
    expect(last.error.message).toMatch(/--memory/);
    expect(r.stdout).toBe('');
    expect(defined()).not.toContain(VM);
  }, 120_000);
});
