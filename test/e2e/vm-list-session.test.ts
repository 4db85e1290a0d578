/**
 * `vm list` holds one interactive virsh session (src/libvirt/virsh-session.ts):
 * the built CLI against the lab, with a running VM whose name needs quoting
 * (quotes, a space, a semicolon) and a NIC on `default`, leased. Its address
 * comes from the second round of the same virsh process; -v shows that one
 * process and the lines written to it; checked against virsh itself.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../support/schemas.js';
import { cli, lab, newStateDir, removeStateDirs, snapshotHost, virsh, type CliOptions } from './reliability/harness.js';

const RUN = `e2e-sess 'q;"x`;
const OFF = 'e2e-sess-off';
const MAC = '52:54:00:e5:00:01';
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-session-'));
const log = join(lab.dir, 'pools', 'e2e-sess.serial.log');
let o: CliOptions;

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** A disk-less VM booting the lab guest's kernel, one NIC on default. */
function defineVm(name: string, mac: string, serialLog?: string): void {
  const serial = serialLog ? `<serial type='pty'><log file='${serialLog}' append='off'/></serial>` : `<serial type='pty'/>`;
  const xml = `<domain type='qemu'><name>${xmlText(name)}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <devices><interface type='network'><source network='default'/><mac address='${mac}'/><model type='virtio'/></interface>${serial}<console type='pty'/></devices></domain>`;
  const file = join(work, 'vm.xml');
  writeFileSync(file, xml);
  const r = virsh('define', '--file', file);
  if (r.code !== 0) throw new Error(`virsh define ${name}: ${r.stderr}`);
}

function removeVms(): void {
  for (const name of [RUN, OFF]) {
    virsh('destroy', '--domain', name);
    virsh('undefine', '--domain', name);
  }
}

/** The address libvirt's dnsmasq leased to MAC, once it has. */
async function leasedAddress(mac: string): Promise<string> {
  for (let i = 0; i < 120; i++) {
    const m = new RegExp(`${mac}\\s+ipv4\\s+([0-9.]+)/24`).exec(virsh('net-dhcp-leases', '--network', 'default').stdout);
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no lease for ${mac} within 60 s`);
}

beforeAll(() => {
  o = { stateDir: newStateDir() };
  removeVms();
  if (!/\sactive\s/.test(virsh('net-list', '--all').stdout)) virsh('net-start', '--network', 'default');
  defineVm(RUN, MAC, log);
  defineVm(OFF, '52:54:00:e5:00:02');
  const r = virsh('start', '--domain', RUN);
  if (r.code !== 0) throw new Error(`virsh start: ${r.stderr}`);
});

afterAll(() => {
  removeVms();
  rmSync(work, { recursive: true, force: true });
  rmSync(log, { force: true });
  removeStateDirs();
});

describe('vm list through one virsh session', () => {
  it('shows the running VM with the odd name and the address libvirt leased to its MAC, from one virsh process', async () => {
    const ip = await leasedAddress(MAC);
    // virsh's shell keeps a history under $XDG_CACHE_HOME: the session's goes to a directory of its own, never the user's.
    const cache = join(work, 'cache');
    mkdirSync(cache);
    const r = await cli(['-v', 'vm', 'list', '-o', 'json'], { ...o, env: { XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(0);
    expect(readdirSync(cache)).toEqual([]);
    const vms = parseOutput<Array<{ name: string; state: string; addresses: unknown[] }>>(['vm', 'list'], r.stdout);
    expect(vms.find((v) => v.name === RUN)).toMatchObject({ name: RUN, state: 'running', addresses: [{ address: ip, prefix: 24, mac: MAC, source: 'lease' }] });
    expect(vms.find((v) => v.name === OFF)).toMatchObject({ state: 'shutoff', addresses: [] });
    // -v: one program started, the session, and the second round asks for the NICs of the running VM by its whole name.
    const started = r.stderr.split('\n').filter((l) => l.startsWith('+ '));
    expect(started).toEqual([`+ virsh -c '${lab.uri}' (reading its input in rounds)`]);
    expect(r.stderr).toContain(`< echo `);
    expect(r.stderr).toMatch(/^< .* ; 'domiflist' '--domain' 'e2e-sess '\\''q;"x' ; echo /m);
    expect(r.stderr).toMatch(/^< .* ; 'net-dhcp-leases' '--network' 'default' ; echo /m);
  });

  it('the table shows the same address on the VM\'s row; --state running --name-only prints the name whole', async () => {
    const ip = await leasedAddress(MAC);
    const table = await cli(['vm', 'list'], o);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((l) => l.startsWith(RUN));
    expect(row).toMatch(new RegExp(`^${RUN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+running\\s+1\\s+128\\.0 MiB\\s+no\\s+${ip.replace(/\./g, '\\.')}\\s`));
    const names = await cli(['vm', 'list', '--state', 'running', '--name-only'], o);
    expect(names.stdout.split('\n')).toContain(RUN);
  });

  it('host reads libvirt through one virsh session too, and lists the VMs', async () => {
    const r = await cli(['-v', 'host', '-o', 'json'], o);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('+ virsh'))).toEqual([`+ virsh -c '${lab.uri}' (reading its input in rounds)`]);
    const facts = parseOutput<{ libvirt: { reachable: boolean }; networks: Array<{ name: string; bridge: string }> }>(['host'], r.stdout);
    expect(facts.libvirt.reachable).toBe(true);
    expect(facts.networks.find((n) => n.name === 'default')?.bridge).toBe('virbr0');
  });

  it('an unreachable daemon: exit 5 naming the URI, nothing printed on stdout, nothing changed', async () => {
    // The guest has settled (its link up, its lease taken) before the host is compared.
    await leasedAddress(MAC);
    const before = snapshotHost({ netns: lab.netns });
    const uri = `qemu+unix:///system?socket=${join(work, 'no-such-sock')}`;
    const r = await cli(['-c', uri, 'vm', 'list'], o);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`cannot reach libvirt at ${uri}`);
    expect(r.stdout).toBe('');
    expect(snapshotHost({ netns: lab.netns })).toEqual(before);
  });
});
