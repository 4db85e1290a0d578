/**
 * Waits take only addresses of the VM's current run, on the lab with a real
 * guest (the lab's tiny guest: udhcpc gets a lease from the default network's
 * dnsmasq): started, leased, destroyed and started again with kvmctl; the wait
 * right after the second start must not return while dnsmasq lists only the
 * first run's lease. And the wait's spinner: on a pseudo-terminal, none when piped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, lab, virsh } from './lab.js';
import { newStateDir, removeStateDirs, start } from './reliability/harness.js';

const VM = 'rr-guest';
const MAC = '52:54:00:77:00:02';
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-rerun-'));
let stateDir = '';
const run = (args: string[]) => start(args, { stateDir }).done;
const leaseLine = () => virsh('net-dhcp-leases', '--network', 'default').stdout.split('\n').find((l) => l.includes(MAC)) ?? '';

beforeAll(() => {
  stateDir = newStateDir();
  virsh('destroy', '--domain', VM);
  virsh('undefine', '--domain', VM);
  virsh('net-start', 'default');
  const xml = `<domain type='qemu'><name>${VM}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <devices><interface type='network'><mac address='${MAC}'/><source network='default'/><model type='virtio'/></interface><serial type='pty'/><console type='pty'/></devices></domain>`;
  writeFileSync(join(work, 'vm.xml'), xml);
  expect(virsh('define', '--file', join(work, 'vm.xml')).code).toBe(0);
});

afterAll(() => {
  virsh('destroy', '--domain', VM);
  virsh('undefine', '--domain', VM);
  rmSync(work, { recursive: true, force: true });
  removeStateDirs();
});

describe('a wait after destroy and start', () => {
  it('returns the address only once the new run has its own lease', async () => {
    expect((await run(['vm', 'start', VM])).code).toBe(0);
    const first = await run(['vm', 'wait', VM, '--for', 'ip', '--timeout', '600']);
    expect(first.code, first.stderr).toBe(0);
    const ip = first.stdout.trim();
    expect(ip).toMatch(/^192\.168\.122\.\d+$/);
    const oldLease = leaseLine();
    expect(oldLease).toContain(ip);
    expect((await run(['vm', 'destroy', VM])).code).toBe(0);
    expect((await run(['vm', 'start', VM])).code).toBe(0);
    // dnsmasq still lists the first run's lease while the guest boots.
    const again = await run(['vm', 'wait', VM, '--for', 'ip', '--timeout', '600']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toMatch(/^192\.168\.122\.\d+$/);
    // By the time the wait returned, the lease listed was made by the new run: not the old one.
    const newLease = leaseLine();
    expect(newLease).not.toBe('');
    expect(newLease).not.toBe(oldLease);
  }, 1_300_000);

  it('on a pseudo-terminal the wait shows its spinner text; piped, none', () => {
    const cmd = `stty cols 120 rows 40; ip netns exec ${lab.netns} ${process.execPath} ${KVMCTL} -c '${lab.uri}' vm wait ${VM} --for shutoff --timeout 2`;
    const tty = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, KVMCTL_STATE_DIR: stateDir, TERM: 'xterm' }, timeout: 60_000 });
    expect(tty.status).toBe(6);
    expect(tty.stdout).toContain(`waiting for VM "${VM}" to be shutoff`);
    const piped = spawnSync('ip', ['netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, 'vm', 'wait', VM, '--for', 'shutoff', '--timeout', '2'], { encoding: 'utf8', env: { ...process.env, KVMCTL_STATE_DIR: stateDir }, timeout: 60_000 });
    expect(piped.status).toBe(6);
    expect(piped.stderr).not.toContain(`waiting for VM "${VM}" to be shutoff:`);
    expect(piped.stderr).toMatch(/timed out after 2 s waiting for VM "rr-guest" to be shutoff/);
  }, 120_000);
});
