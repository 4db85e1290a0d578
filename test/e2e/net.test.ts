/**
 * kvmctl net against the lab's libvirtd (in the lab's namespace): a NAT
 * network with its own subnet, the lab guest booted on it (defined with virsh,
 * direct kernel boot), its lease with the VM's name, a reservation that the
 * next boot gets, forwards to the VM, and every refusal leaving libvirt and
 * the namespace as they were.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../support/schemas.js';
import { cli, inNetns, lab, newStateDir, removeStateDirs, snapshotHost, virsh, type CliOptions } from './reliability/harness.js';

const PREFIX = 'e2e-net';
const NET = `${PREFIX}-nat`;
const VM = `${PREFIX}-vm1`;
const MAC = '52:54:00:e2:07:01';
const SUBNET = '10.231.7.0/24';
const RESERVED = '10.231.7.50';
const dir = () => join(lab.dir, 'pools', PREFIX);
const consoleLog = () => join(dir(), `${VM}.log`);
let o: CliOptions;

const state = () => snapshotHost();
const names = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

function must(r: { code: number; stderr: string; stdout: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function cleanup(): void {
  if (names(virsh('list', '--all', '--name').stdout).includes(VM)) {
    virsh('destroy', '--domain', VM);
    virsh('undefine', '--domain', VM);
  }
  for (const n of names(virsh('net-list', '--all', '--name').stdout).filter((x) => x.startsWith(PREFIX))) {
    virsh('net-destroy', '--network', n);
    virsh('net-undefine', '--network', n);
  }
  rmSync(dir(), { recursive: true, force: true });
}

/** The lab guest on NET: direct kernel boot, 256 MiB, serial console logged to a file. */
function defineVm(): void {
  const g = lab.guestDir;
  const xml = `<domain type='qemu'>
  <name>${VM}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${g}/vmlinuz</kernel><initrd>${g}/initrd.img</initrd><cmdline>console=ttyS0 kvmctl.hostname=${VM}</cmdline></os>
  <features><acpi/></features>
  <devices>
    <interface type='network'><source network='${NET}'/><mac address='${MAC}'/><model type='virtio'/></interface>
    <serial type='pty'><log file='${consoleLog()}' append='off'/></serial>
    <console type='pty'/>
  </devices>
</domain>`;
  writeFileSync(join(dir(), `${VM}.xml`), xml);
  must(virsh('define', '--file', join(dir(), `${VM}.xml`)), `define ${VM}`);
}

/** Waits (without blocking the worker) for the guest to report its DHCP address on the console. */
async function bootedAddress(timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(consoleLog(), 'utf8');
    } catch {
      // The log appears when QEMU starts.
    }
    const m = /KVMCTL-GUEST-IP eth0 (\S+)/.exec(text);
    if (m?.[1]) return m[1];
    if (Date.now() > deadline) throw new Error(`${VM} reported no address within ${timeoutMs} ms; console:\n${text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(() => {
  cleanup();
  mkdirSync(dir(), { recursive: true });
  o = { stateDir: newStateDir() };
});

afterAll(() => {
  cleanup();
  removeStateDirs();
});

describe('net create', () => {
  it('a subnet that overlaps the default network is exit 4 and changes nothing', async () => {
    const before = state();
    const r = await cli(['net', 'create', NET, '--mode', 'nat', '--subnet', '192.168.122.0/25'], o);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^kvmctl: error: cannot create network "${NET}": subnet 192\\.168\\.122\\.0/25 overlaps libvirt network "default" \\(192\\.168\\.122\\.0/24\\)\\nhint: choose a free subnet, e\\.g\\. --subnet 192\\.168\\.\\d+\\.0/24\\n$`));
    expect(state()).toEqual(before);
  });

  it('--print-xml prints what it would define and changes nothing', async () => {
    const before = state();
    const r = await cli(['net', 'create', NET, '--mode', 'nat', '--subnet', SUBNET, '--domain', 'e2e.lan', '--print-xml'], o);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`<name>${NET}</name>`);
    expect(r.stdout).toContain('<ip address="10.231.7.1" prefix="24">');
    expect(state()).toEqual(before);
  });

  it('creates, starts and autostarts a NAT network on a custom subnet', async () => {
    const r = await cli(['net', 'create', NET, '--mode', 'nat', '--subnet', SUBNET, '--domain', 'e2e.lan'], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^network ${NET} created \\(nat, subnet ${SUBNET.replace(/\./g, '\\.')}, gateway 10\\.231\\.7\\.1, DHCP 10\\.231\\.7\\.2-10\\.231\\.7\\.254, bridge virbr\\d+\\); started, autostart on\\n$`));
    const info = must(virsh('net-info', '--network', NET), 'net-info');
    expect(info).toMatch(/^Active:\s+yes$/m);
    expect(info).toMatch(/^Autostart:\s+yes$/m);
    const bridge = /^Bridge:\s+(\S+)$/m.exec(info)?.[1] ?? '';
    // libvirt made the bridge and its gateway in the lab's namespace.
    expect(inNetns(lab.netns, 'ip', '-br', 'addr', 'show', 'dev', bridge).stdout).toContain('10.231.7.1/24');
  });

  it('the same again is unchanged; another subnet for the name is exit 4', async () => {
    const same = await cli(['net', 'create', NET, '--mode', 'nat', '--subnet', SUBNET, '--domain', 'e2e.lan'], o);
    expect(same).toMatchObject({ code: 0, stdout: `network ${NET} unchanged\n` });
    const before = state();
    const other = await cli(['net', 'create', NET, '--mode', 'nat', '--subnet', '10.231.8.0/24'], o);
    expect(other.code).toBe(4);
    expect(other.stderr).toContain(`network "${NET}" already exists with a different definition (DNS domain: asked none, defined e2e.lan; address: asked 10.231.8.1/24, defined 10.231.7.1/24; DHCP range: asked 10.231.8.2-10.231.8.254, defined 10.231.7.2-10.231.7.254)`);
    expect(state()).toEqual(before);
  });

  it('net list shows it with its subnet and DHCP range', async () => {
    const r = await cli(['net', 'list', '-o', 'json'], o);
    expect(r.code).toBe(0);
    const mine = parseOutput(['net', 'list'], r.stdout).find((n: { name: string }) => n.name === NET);
    expect(mine).toMatchObject({ state: 'active', autostart: true, persistent: true, mode: 'nat', subnet: SUBNET, gateway: '10.231.7.1', dhcpRange: { start: '10.231.7.2', end: '10.231.7.254' } });
  });
});

describe('a VM on the network', () => {
  let leased = '';

  it('boots and gets a lease that net leases shows with the VM name', async () => {
    defineVm();
    must(virsh('start', '--domain', VM), `start ${VM}`);
    leased = await bootedAddress();
    expect(leased).toMatch(/^10\.231\.7\.\d+$/);
    const r = await cli(['net', 'leases', NET, '-o', 'json'], o);
    expect(r.code).toBe(0);
    expect(parseOutput(['net', 'leases'], r.stdout)).toEqual([expect.objectContaining({ network: NET, mac: MAC, address: leased, prefix: 24, source: 'lease', hostname: VM, vm: VM, expiresAt: expect.stringMatching(/Z$/) })]);
    const all = await cli(['net', 'leases'], o);
    expect(all.stdout).toMatch(new RegExp(`^${NET}\\s+${MAC}\\s+${leased.replace(/\./g, '\\.')}/24\\s+${VM}\\s+\\S+\\s+${VM}$`, 'm'));
  });

  it('delete and stop are refused while the VM runs, naming it; nothing changes', async () => {
    const before = state();
    const del = await cli(['net', 'delete', NET], o);
    expect(del.code).toBe(5);
    expect(del.stderr).toBe(`kvmctl: error: network ${NET} is in use by running VM(s): ${VM}\nhint: shut them down (or move their interfaces to another network) first\n`);
    const stop = await cli(['net', 'stop', NET], o);
    expect(stop.code).toBe(5);
    expect(stop.stderr).toContain(`network ${NET} is in use by running VM(s): ${VM}; stopping it cuts them off`);
    expect(state()).toEqual(before);
  });

  it('net reserve pins an address, live and persistent; the next boot gets it', async () => {
    // dnsmasq picks the first address by hashing the MAC: the reserved one must be a change.
    expect(leased).not.toBe(RESERVED);
    const r = await cli(['net', 'reserve', NET, '--mac', MAC, '--ip', RESERVED, '--hostname', VM], o);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `reserved ${RESERVED} for ${MAC} on network ${NET}; the next DHCP request of that MAC gets it\n` });
    const host = `<host mac='${MAC}' name='${VM}' ip='${RESERVED}'/>`;
    expect(must(virsh('net-dumpxml', '--network', NET), 'dumpxml')).toContain(host);
    expect(must(virsh('net-dumpxml', '--network', NET, '--inactive'), 'dumpxml --inactive')).toContain(host);
    const again = await cli(['net', 'reserve', NET, '--mac', MAC, '--ip', RESERVED, '--hostname', VM], o);
    expect(again).toMatchObject({ code: 0, stdout: `reservation ${MAC} -> ${RESERVED} on network ${NET} unchanged\n` });
    const clash = await cli(['net', 'reserve', NET, '--mac', '52:54:00:e2:07:99', '--ip', RESERVED], o);
    expect(clash.code).toBe(4);

    must(virsh('destroy', '--domain', VM), 'destroy');
    rmSync(consoleLog(), { force: true });
    must(virsh('start', '--domain', VM), 'start');
    expect(await bootedAddress()).toBe(RESERVED);
  });

  it('net info shows the reservation with its VM and the lease', async () => {
    const r = await cli(['net', 'info', NET, '-o', 'json'], o);
    expect(r.code).toBe(0);
    const info = parseOutput(['net', 'info'], r.stdout);
    expect(info).toMatchObject({ name: NET, state: 'active', mode: 'nat', subnet: SUBNET, domain: 'e2e.lan', dhcpHosts: [{ mac: MAC, address: RESERVED, source: 'static', hostname: VM, vm: VM }] });
    expect(info.leases).toContainEqual(expect.objectContaining({ mac: MAC, address: RESERVED, source: 'lease', vm: VM }));
  });

  it('net forward to the VM resolves its reserved address; list and delete', async () => {
    const add = await cli(['net', 'forward', 'add', '--port', '2299', '--to', VM], o);
    expect(add.stderr).toBe('');
    expect(add).toMatchObject({ code: 0, stdout: `forward tcp-2299: host port 2299/tcp -> ${RESERVED}:22 (VM ${VM}, network ${NET})\n` });
    const rules = inNetns(lab.netns, 'iptables-save').stdout.split('\n').filter((l) => l.includes('"kvmctl:fwd:tcp-2299"'));
    expect(rules).toHaveLength(4);
    const list = await cli(['net', 'forward', 'list', '-o', 'json'], o);
    expect(parseOutput(['net', 'forward', 'list'], list.stdout)).toContainEqual({ id: 'tcp-2299', protocol: 'tcp', port: { first: 2299, last: 2299 }, toAddress: RESERVED, toPort: { first: 22, last: 22 }, network: NET, vm: VM, complete: true });
    const del = await cli(['net', 'forward', 'delete', '2299'], o);
    expect(del.code).toBe(0);
    expect(inNetns(lab.netns, 'iptables-save').stdout).not.toContain('kvmctl:fwd:tcp-2299');
  });

  it('net unreserve removes it again', async () => {
    const r = await cli(['net', 'unreserve', NET, '--mac', MAC], o);
    expect(r).toMatchObject({ code: 0, stdout: `removed reservation ${MAC} -> ${RESERVED} from network ${NET}\n` });
    expect(must(virsh('net-dumpxml', '--network', NET, '--inactive'), 'dumpxml')).not.toContain(MAC);
    const again = await cli(['net', 'unreserve', NET, '--mac', MAC], o);
    expect(again.code).toBe(3);
  });
});

describe('net stop | start | autostart | delete', () => {
  it('with the VM gone: autostart off, stop, start, delete', async () => {
    must(virsh('destroy', '--domain', VM), 'destroy');
    must(virsh('undefine', '--domain', VM), 'undefine');
    expect((await cli(['net', 'autostart', NET, '--disable'], o)).stdout).toBe(`network ${NET}: autostart off\n`);
    expect(must(virsh('net-info', '--network', NET), 'net-info')).toMatch(/^Autostart:\s+no$/m);
    expect((await cli(['net', 'stop', NET], o)).stdout).toBe(`network ${NET} stopped\n`);
    expect((await cli(['net', 'stop', NET], o)).stdout).toBe(`network ${NET} unchanged: not active\n`);
    expect((await cli(['net', 'start', NET], o)).stdout).toBe(`network ${NET} started\n`);
    const del = await cli(['net', 'delete', NET], o);
    expect(del).toMatchObject({ code: 0, stdout: `network ${NET} deleted\n` });
    expect(names(virsh('net-list', '--all', '--name').stdout)).not.toContain(NET);
    const gone = await cli(['net', 'delete', NET], o);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain(`network "${NET}" not found`);
  });
});
