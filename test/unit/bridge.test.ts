/**
 * kvmctl bridge over recorded `ip -j` output: the test namespace (bridge fxbr
 * with port fxcl, uplink fxup with the default route), the same after a real
 * `bridge attach fxbr fxup --move-address` (*-moved.json), and the lab's
 * namespace (virbr1 with fxn-vm1's tap).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { currentNetnsId } from '../../src/net/netns-record.js';
import { cli, newStateDir, rec, stubLoadDomains, stubLoadNetworks, URI } from './net-harness.js';

const UNREACHABLE = "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n";
const VNET = /net\.0\.name=(\S+)/.exec(rec('virsh-domstats-raw-interface-list-active.txt'))?.[1] ?? '?';
const domstats = ['virsh', '-c', URI, 'domstats', '--raw', '--interface', '--list-active'];

/** A namespace: its links and routes, and libvirt unreachable (as in the e2e namespaces). */
function ns(moved = false): FakeRunner {
  const suffix = moved ? '-moved' : '';
  return new FakeRunner()
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec(`ns-ip-j-d-addr-show${suffix}.json`) })
    .stub(['ip', '-j', 'route', 'show'], { stdout: rec(`ns-ip-j-route-show${suffix}.json`) })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: moved ? '[]' : rec('ns-ip-j-6-route-show.json') })
    .stub((c) => c.program === 'virsh', { exitCode: 1, stderr: UNREACHABLE }, Infinity);
}

/** The lab's namespace with libvirt answering. */
function lab(): FakeRunner {
  return new FakeRunner()
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('lab-ip-j-d-addr-show.json') })
    .stub(['ip', '-j', 'route', 'show'], { stdout: rec('lab-ip-j-route-show.json') })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: '[]' })
    .stub(domstats, { stdout: rec('virsh-domstats-raw-interface-list-active.txt') });
}

describe('bridge list', () => {
  it('shows each bridge with its ports and the VM behind each tap', async () => {
    const r = await cli(['bridge', 'list', '-o', 'json'], lab());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const bridges = JSON.parse(r.out) as Array<{ name: string; ports: unknown[]; vms: string[]; stp: boolean; addresses: string[] }>;
    expect(bridges.map((b) => b.name)).toEqual(['virbr0', 'fxbr0', 'virbr1', 'virbr2']);
    expect(bridges.find((b) => b.name === 'virbr1')).toMatchObject({ stp: true, addresses: ['10.213.0.1/24'], ports: [{ name: VNET, vm: 'fxn-vm1' }], vms: ['fxn-vm1'] });
    const table = await cli(['bridge', 'list'], lab());
    expect(table.out).toMatch(/^NAME\s+STATE\s+MTU\s+STP\s+ADDRESSES\s+PORTS\s+VMS$/m);
    expect(table.out).toMatch(new RegExp(`^virbr1\\s+UP\\s+1500\\s+yes\\s+10\\.213\\.0\\.1/24\\s+${VNET} \\(fxn-vm1\\)\\s+fxn-vm1$`, 'm'));
  });

  it('without libvirt it lists the bridges and says why VM names are missing', async () => {
    const r = await cli(['bridge', 'list'], ns());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^fxbr\s+UP\s+1500\s+no\s+10\.77\.0\.1\/24, fe80::\S+\s+fxcl\s+-$/m);
    expect(r.err).toBe("warning: VM names are not shown: cannot reach libvirt at qemu:///system (Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory)\n");
  });

  it('makes two calls for 1 bridge and for 200', async () => {
    for (const count of [1, 200]) {
      const links = Array.from({ length: count }, (_, i) => [
        { ifindex: 2 * i + 10, ifname: `br${i}`, flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0 } }, addr_info: [] },
        { ifindex: 2 * i + 11, ifname: `vnet${i}`, master: `br${i}`, flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: { info_kind: 'tun' }, addr_info: [] },
      ]).flat();
      const stats = Array.from({ length: count }, (_, i) => `Domain: 'vm${i}'\n  net.count=1\n  net.0.name=vnet${i}\n`).join('\n');
      const runner = new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: JSON.stringify(links) }).stub(domstats, { stdout: stats });
      const r = await cli(['bridge', 'list', '-o', 'json'], runner);
      const out = JSON.parse(r.out) as Array<{ vms: string[] }>;
      expect(out).toHaveLength(count);
      expect(out[count - 1]?.vms).toEqual([`vm${count - 1}`]);
      expect(r.runner.calls).toHaveLength(2);
    }
  });
});

describe('bridge create', () => {
  it('adds the bridge, its address, and brings it up', async () => {
    const runner = ns()
      .stub(['ip', 'link', 'add', 'name', 'br9', 'type', 'bridge', 'stp_state', '1'], {})
      .stub(['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'br9'], {})
      .stub(['ip', 'link', 'set', 'dev', 'br9', 'up'], {});
    const r = await cli(['bridge', 'create', 'br9', '--stp', '--address', '10.88.0.1/24'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('bridge br9 created (STP on, address 10.88.0.1/24) and up\n');
    expect(r.changes).toEqual(['ip link add name br9 type bridge stp_state 1', 'ip addr add 10.88.0.1/24 dev br9', 'ip link set dev br9 up']);
  });

  it('the same bridge again is unchanged; other settings or a non-bridge are exit 4', async () => {
    // fxbr was made by hand (no record of kvmctl's): it is said whose it is, not "unchanged".
    const foreign = await cli(['bridge', 'create', 'fxbr', '--address', '10.77.0.1/24'], ns());
    expect(foreign).toMatchObject({ code: 0, out: 'bridge fxbr already exists, made by another tool or by hand, not by kvmctl: left as it is\n', changes: [] });
    const stateDir = newStateDir();
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    writeFileSync(join(stateDir, 'net', `bridges-netns-${await currentNetnsId()}.json`), JSON.stringify({ names: ['fxbr'] }));
    expect(await cli(['bridge', 'create', 'fxbr', '--address', '10.77.0.1/24'], ns(), { stateDir })).toMatchObject({ code: 0, out: 'bridge fxbr unchanged\n', changes: [] });
    const docker = await cli(['bridge', 'create', 'fxbr', '-o', 'json'], ns());
    expect(JSON.parse(docker.out)).toMatchObject({ name: 'fxbr', changed: false, createdByKvmctl: false, owner: 'another tool or by hand' });
    const stp = await cli(['bridge', 'create', 'fxbr', '--stp'], ns());
    expect(stp.code).toBe(4);
    expect(stp.err).toContain('bridge fxbr already exists with other settings: STP is off on it');
    const addr = await cli(['bridge', 'create', 'fxbr', '--address', '10.77.0.2/24'], ns());
    expect(addr.err).toContain('it has no address 10.77.0.2/24');
    const veth = await cli(['bridge', 'create', 'fxup'], ns());
    expect(veth.code).toBe(4);
    expect(veth.err).toContain('an interface named fxup already exists and is not a bridge (veth)');
    const overlap = await cli(['bridge', 'create', 'br9', '--address', '198.51.100.9/24'], ns());
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('--address 198.51.100.9/24 overlaps 198.51.100.1/24 of fxup');
    expect([...stp.changes, ...addr.changes, ...veth.changes, ...overlap.changes]).toEqual([]);
  });

  it('bad names and addresses are exit 2 before anything runs', async () => {
    for (const [args, message] of [
      [['bridge', 'create', 'this-name-is-too-long'], 'invalid bridge name "this-name-is-too-long": longer than 15 bytes'],
      [['bridge', 'create', 'br 0'], 'it contains white space'],
      [['bridge', 'create', 'br:0'], "it contains ':'"],
      [['bridge', 'create', 'br0', '--address', '10.88.0.0/24'], 'that is the network or broadcast address of its subnet'],
      [['bridge', 'create', 'br0', '--address', '10.88.0.1'], 'not ADDRESS/PREFIX'],
      [['bridge', 'delete', 'a/b'], "it contains '/'"],
      [['bridge', 'attach', 'br0', 'eth 0'], 'invalid interface name "eth 0"'],
    ]) {
      const r = await cli(args as string[], new FakeRunner());
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
      expect(r.runner.calls).toEqual([]);
    }
  });

  it('a failing step deletes the new bridge again: exit 7', async () => {
    const runner = ns()
      .stub(['ip', 'link', 'add', 'name', 'br9', 'type', 'bridge', 'stp_state', '0'], {})
      .stub(['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'br9'], { exitCode: 2, stderr: rec('err-ip-addr-add-exists.stderr') })
      .stub(['ip', 'link', 'delete', 'dev', 'br9'], {});
    const r = await cli(['bridge', 'create', 'br9', '--address', '10.88.0.1/24'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toContain('Error: ipv4: Address already assigned.');
    expect(r.changes.at(-1)).toBe('ip link delete dev br9');
  });
});

describe('bridge delete', () => {
  it('is refused while ports use it, unless --force', async () => {
    const r = await cli(['bridge', 'delete', 'fxbr'], ns());
    expect(r.code).toBe(5);
    expect(r.err).toContain('kvmctl: error: bridge fxbr is in use: ports fxcl\nhint: detach them first, or delete it anyway with: kvmctl bridge delete fxbr --force\n');
    expect(r.changes).toEqual([]);
    const forced = await cli(['bridge', 'delete', 'fxbr', '--force'], ns().stub(['ip', 'link', 'delete', 'dev', 'fxbr'], {}));
    expect(forced.code).toBe(0);
    expect(forced.out).toBe('bridge fxbr deleted (it was used by ports fxcl)\n');
  });

  it('is never done while a running VM is attached, even with --force', async () => {
    const r = await cli(['bridge', 'delete', 'virbr1', '--force'], lab());
    expect(r.code).toBe(5);
    expect(r.err).toContain(`bridge virbr1 has running VM interfaces attached: fxn-vm1 (${VNET})`);
    expect(r.changes).toEqual([]);
  });

  it('is refused while a libvirt network uses it', async () => {
    const runner = stubLoadDomains(stubLoadNetworks(lab(), { leases: false }));
    const r = await cli(['bridge', 'delete', 'virbr0'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain('bridge virbr0 is in use: libvirt network(s) default');
    expect(r.changes).toEqual([]);
  });

  it('is refused while it carries the default route; a missing bridge is exit 3', async () => {
    const r = await cli(['bridge', 'delete', 'fxbr', '--force'], ns(true));
    expect(r.code).toBe(5);
    expect(r.err).toBe('kvmctl: error: bridge fxbr carries the default route: deleting it cuts this host off\nhint: move its addresses back first: kvmctl bridge detach fxbr fxup --move-address\n');
    const missing = await cli(['bridge', 'delete', 'br9'], ns());
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('bridge "br9" not found');
  });
});

describe('bridge attach', () => {
  it('refuses the NIC with the default route without --move-address (exit 5), changing nothing', async () => {
    const r = await cli(['bridge', 'attach', 'fxbr', 'fxup'], ns());
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      'kvmctl: error: fxup carries the default route: enslaving it to fxbr without its addresses cuts this host off the network\n' +
        'hint: move its addresses and routes to the bridge in the same step: kvmctl bridge attach fxbr fxup --move-address\n',
    );
    expect(r.changes).toEqual([]);
  });

  it('--move-address moves addresses and routes (default included) and records them', async () => {
    const runner = ns().stub(() => true, {}, Infinity);
    const r = await cli(['bridge', 'attach', 'fxbr', 'fxup', '--move-address'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('fxup attached to fxbr; moved 198.51.100.1/24, 2001:db8:1::1/64, route default via 198.51.100.2, route 203.0.113.0/24 via 198.51.100.2 to fxbr\n');
    expect(r.changes).toEqual([
      'ip link set dev fxup master fxbr',
      'ip addr del 198.51.100.1/24 dev fxup',
      'ip addr add 198.51.100.1/24 dev fxbr',
      'ip -6 addr del 2001:db8:1::1/64 dev fxup',
      'ip -6 addr add 2001:db8:1::1/64 dev fxbr',
      'ip route replace default via 198.51.100.2 dev fxbr',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50',
    ]);
    const record = JSON.parse(readFileSync(join(r.stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`), 'utf8'));
    // Keyed by the port it moved from.
    expect(record.fxup.bridge).toBe('fxbr');
    expect(record.fxup.iface).toBe('fxup');
    expect(record.fxup.addresses.map((a: { local: string }) => a.local)).toEqual(['198.51.100.1', '2001:db8:1::1']);
  });

  it('a step that fails puts every address and route back: exit 7', async () => {
    const runner = ns()
      .stub((c) => c.args.join(' ') === 'route replace 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50', { exitCode: 2, stderr: 'Error: Nexthop has invalid gateway.\n' })
      .stub(() => true, {}, Infinity);
    const r = await cli(['bridge', 'attach', 'fxbr', 'fxup', '--move-address'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toContain('bridge attach fxbr fxup failed: ');
    expect(r.changes.slice(7)).toEqual([
      'ip route del default via 198.51.100.2 dev fxbr',
      'ip -6 addr del 2001:db8:1::1/64 dev fxbr',
      'ip -6 addr add 2001:db8:1::1/64 dev fxup',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxup proto static metric 50',
      'ip link set dev fxup nomaster',
    ]);
    expect(existsSync(join(r.stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`))).toBe(false);
  });

  it('an attached NIC is unchanged; a port of another bridge is exit 4; unknown ones exit 3', async () => {
    expect(await cli(['bridge', 'attach', 'fxbr', 'fxcl'], ns())).toMatchObject({ code: 0, out: 'fxcl is already attached to fxbr: unchanged\n', changes: [] });
    const links = rec('ns-ip-j-d-addr-show.json').replace('"master":"fxbr"', '"master":"br7"');
    const r = await cli(['bridge', 'attach', 'fxbr', 'fxcl'], new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: links }).stub(() => true, { stdout: '[]' }, Infinity));
    expect(r.code).toBe(4);
    expect(r.err).toContain('fxcl is already a port of br7');
    const missing = await cli(['bridge', 'attach', 'fxbr', 'eth9'], ns());
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('interface "eth9" not found');
    const self = await cli(['bridge', 'attach', 'fxbr', 'fxbr'], new FakeRunner());
    expect(self.code).toBe(2);
    const lo = await cli(['bridge', 'attach', 'fxbr', 'lo'], ns());
    expect(lo.code).toBe(2);
    expect(lo.err).toContain('lo is the loopback interface');
  });
});

describe('bridge detach', () => {
  it('refuses to release the uplink of a bridge with the default route without --move-address', async () => {
    const r = await cli(['bridge', 'detach', 'fxbr', 'fxup'], ns(true));
    expect(r.code).toBe(5);
    expect(r.err).toContain('fxbr carries the default route: releasing its uplink fxup cuts this host off the network');
    expect(r.changes).toEqual([]);
  });

  it('--move-address moves back exactly what attach moved', async () => {
    const stateDir = newStateDir();
    const moved = {
      fxbr: {
        iface: 'fxup',
        addresses: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: '2001:db8:1::1', prefixlen: 64, scope: 'global' }],
        routes: [
          { family: 4, dst: 'default', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
          { family: 4, dst: '203.0.113.0/24', gateway: '198.51.100.2', dev: 'fxup', protocol: 'static', metric: 50, flags: [] },
        ],
      },
    };
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    const file = join(stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`);
    writeFileSync(file, JSON.stringify(moved));
    const r = await cli(['bridge', 'detach', 'fxbr', 'fxup', '--move-address'], ns(true).stub(() => true, {}, Infinity), { stateDir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 10.77.0.1/24 was the bridge's own: it stays.
    expect(r.changes).toEqual([
      'ip link set dev fxup nomaster',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip -6 addr del 2001:db8:1::1/64 dev fxbr',
      'ip -6 addr add 2001:db8:1::1/64 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxup proto static metric 50',
    ]);
    expect(existsSync(file)).toBe(false);
  });

  it('a tap of a running VM is refused; a NIC in no bridge is unchanged', async () => {
    const r = await cli(['bridge', 'detach', 'virbr1', VNET], lab());
    expect(r.code).toBe(5);
    expect(r.err).toContain(`${VNET} is the interface of running VM fxn-vm1`);
    expect(await cli(['bridge', 'detach', 'fxbr', 'fxup'], ns())).toMatchObject({ code: 0, out: 'fxup is not attached to any bridge: unchanged\n', changes: [] });
  });
});

describe('bridge detach after two attaches (fxup with --move-address, fxcl plain)', () => {
  const movedFromFxup = {
    fxup: {
      bridge: 'fxbr',
      iface: 'fxup',
      addresses: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24, scope: 'global' }],
      routes: [
        { family: 4, dst: 'default', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
        // Removed from the host since: it is not put back (it would fail and strand the detach).
        { family: 4, dst: '192.0.2.0/24', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
      ],
    },
  };
  async function withRecord(value: unknown): Promise<{ stateDir: string; file: string }> {
    const stateDir = newStateDir();
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    const file = join(stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`);
    writeFileSync(file, JSON.stringify(value));
    return { stateDir, file };
  }

  it('the plain port goes without moving anything, although the bridge carries the default route', async () => {
    const { stateDir, file } = await withRecord(movedFromFxup);
    const r = await cli(['bridge', 'detach', 'fxbr', 'fxcl'], ns(true).stub(['ip', 'link', 'set', 'dev', 'fxcl', 'nomaster'], {}), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual(['ip link set dev fxcl nomaster']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(movedFromFxup);
  });

  it('--move-address of the plain port is refused (exit 5), naming the port the addresses came from; nothing runs', async () => {
    const { stateDir } = await withRecord(movedFromFxup);
    const r = await cli(['bridge', 'detach', 'fxbr', 'fxcl', '--move-address'], ns(true), { stateDir });
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      "kvmctl: error: kvmctl moved fxbr's addresses and routes from fxup, not from fxcl: moving them to fxcl would put them on the wrong NIC\n" +
        'hint: release fxcl alone with: kvmctl bridge detach fxbr fxcl; move them back with: kvmctl bridge detach fxbr fxup --move-address\n',
    );
    expect(r.changes).toEqual([]);
  });

  it('--move-address of the uplink moves back what is still there; the record goes', async () => {
    const { stateDir, file } = await withRecord(movedFromFxup);
    const r = await cli(['bridge', 'detach', 'fxbr', 'fxup', '--move-address'], ns(true).stub(() => true, {}, Infinity), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual([
      'ip link set dev fxup nomaster',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
    ]);
    expect(existsSync(file)).toBe(false);
  });

  it('the bridge delete hint names the recorded uplink', async () => {
    const { stateDir } = await withRecord({ fxcl: { ...movedFromFxup.fxup, iface: 'fxcl' } });
    const r = await cli(['bridge', 'delete', 'fxbr'], ns(true), { stateDir });
    expect(r.code).toBe(5);
    expect(r.err).toContain('hint: move its addresses back first: kvmctl bridge detach fxbr fxcl --move-address\n');
  });

  it('host doctor reports a record that no longer matches the host, with the command that forgets it; --clear does', async () => {
    const { stateDir, file } = await withRecord({ ...movedFromFxup, fxgone: { ...movedFromFxup.fxup, iface: 'fxgone' } });
    const r = await cli(['host', 'doctor', '-o', 'json'], ns(true), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).staleMoveRecords).toEqual([{ bridge: 'fxbr', iface: 'fxgone', addresses: ['198.51.100.1/24'], reason: 'fxgone no longer exists', fix: 'kvmctl host doctor --clear' }]);
    const table = await cli(['host', 'doctor'], ns(true), { stateDir });
    expect(table.err).toContain("kvmctl's record of moving 198.51.100.1/24 from fxgone to fxbr no longer matches this host: fxgone no longer exists; forget it with: kvmctl host doctor --clear\n");
    const clear = await cli(['host', 'doctor', '--clear'], ns(true), { stateDir });
    expect(clear.code, clear.err).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['fxup']);
  });
});
