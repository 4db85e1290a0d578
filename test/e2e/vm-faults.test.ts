/**
 * vm create against the lab host when a step fails: each state-changing step
 * made to fail in turn (KVMCTL_FAULT=fail:K) leaves libvirt and the pool
 * directory exactly as before (exit 7); Ctrl-C midway is exit 130 with the
 * same result; an undo that fails too is exit 8 with the leftovers named, and
 * the commands it prints remove them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, virsh } from './lab.js';
import { snapshotHost } from './host-state.js';
import { cli, faultSweep, journalFiles, newStateDir, removeStateDirs, start } from './reliability/harness.js';

const PREFIX = 'e2e-vmf';
const POOL = `${PREFIX}-pool`;
const VM = `${PREFIX}-web`;
const poolDir = () => join(lab.dir, 'pools', POOL);
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1cD0ucVvcQNmYx9vM3Q0dyV3R5Z3n2mY1zR2w6h1a e2e@kvmctl';
const keys = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-vmf-keys-'));
let stateDir = '';

/** libvirt's domains, pools and volumes, and every file of the test's pool (sha256). */
const state = () => snapshotHost({ dirs: [poolDir()], netns: '' });
const args = () => ['vm', 'create', VM, '--image', `${POOL}/base.qcow2`, '--memory', '128M', '--ssh-key', join(keys, 'id.pub'), '--autostart'];

function cleanup(): void {
  for (const d of virsh('list', '--all', '--name').stdout.split('\n').map((l) => l.trim())) {
    if (!d.startsWith(PREFIX)) continue;
    virsh('destroy', '--domain', d);
    virsh('undefine', '--domain', d, '--nvram', '--snapshots-metadata');
  }
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(poolDir(), { recursive: true, force: true });
}

beforeAll(() => {
  stateDir = newStateDir();
  cleanup();
  mkdirSync(poolDir(), { recursive: true });
  virsh('pool-define-as', POOL, 'dir', '--target', poolDir());
  virsh('pool-start', POOL);
  copyFileSync(join(lab.guestDir, 'disk.qcow2'), join(poolDir(), 'base.qcow2'));
  virsh('pool-refresh', POOL);
  // A public key as ssh-keygen writes it (the guest never uses it; cloud-init would).
  writeFileSync(join(keys, 'id.pub'), `${PUBLIC_KEY}\n`);
});

afterAll(() => {
  cleanup();
  rmSync(keys, { recursive: true, force: true });
  removeStateDirs();
});

describe('vm create when a step fails (against the lab host)', () => {
  it('each of its steps made to fail in turn: exit 7 and nothing left; with no fault it succeeds', async () => {
    const { steps } = await faultSweep({
      args: args(),
      label: `vm create ${VM}`,
      o: { stateDir },
      snapshot: state,
      checkSuccess: (r) => {
        expect(r.stdout).toMatch(new RegExp(`^vm ${VM} created and started \\(qemu, 1 vCPU, 128\\.0 MiB\\)`));
        expect(virsh('domstate', '--domain', VM).stdout.trim()).toBe('running');
        expect(virsh('dominfo', '--domain', VM).stdout).toMatch(/^Autostart:\s+enable$/m);
      },
      // kvmctl's own delete, which must remove everything create made: overlay, seed and serial log.
      undoSuccess: async () => {
        const r = await cli(['vm', 'delete', VM, '--force', '--remove-storage'], { stateDir });
        expect(r.code, r.stderr).toBe(0);
      },
    });
    expect(steps.map((s) => s.replace(/^virsh -c \S+ /, '').split(' ')[0])).toEqual(['vol-create', 'vol-create', 'vol-upload', 'define', 'autostart', 'start']);
  });

  it('Ctrl-C while a step runs: exit 130 and everything undone', async () => {
    const before = state();
    const p = start(args(), { stateDir, fault: 'hang:4' });
    await p.waitForStderr(/holding step 4/);
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(new RegExp(`vm create ${VM}: interrupted; everything it had done was undone`));
    expect(state()).toEqual(before);
    expect(journalFiles(stateDir)).toEqual([]);
  });

  it('an undo that fails too: exit 8, the leftover named with the command that removes it', async () => {
    const before = state();
    // Step 3 (the seed upload) fails; undo 1 removes the seed, undo 2 (the overlay) fails.
    const r = await cli(args(), { stateDir, fault: 'fail:3,fail:5' });
    expect(r.code, r.stderr).toBe(8);
    const manual = /^ {2}- volume e2e-vmf-pool\/e2e-vmf-web\.qcow2 \(remove with: (virsh .*)\)$/m.exec(r.stderr)?.[1];
    expect(manual, r.stderr).toBeDefined();
    expect(state()).not.toEqual(before);
    const words = (manual ?? '').match(/'[^']*'|\S+/g)?.map((w) => w.replace(/^'(.*)'$/, '$1')) ?? [];
    execFileSync(words[0] ?? 'false', words.slice(1));
    expect(state()).toEqual(before);
  });
});
