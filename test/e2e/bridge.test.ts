/**
 * kvmctl bridge in namespaces made by this test (see netns.ts): real bridges,
 * veths, addresses and routes; the LAN peer must stay reachable through
 * `attach --move-address` and back, and every refusal leaves the namespace as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../support/schemas.js';
import { createTopology, destroyTopology, LAN_HOST, LAN_PEER, ping, type Topology } from './netns.js';
import { cli, faultSweep, inNetns, inNs, lab, newStateDir, removeStateDirs, snapshotHost, type CliOptions } from './reliability/harness.js';

const BR = 'ktbr0';
let t: Topology;
let o: CliOptions;

/**
 * The host namespace as configured. Carrier flags (and routes' linkdown) are
 * left out: a new bridge has carrier until its first port comes and goes (the
 * kernel's doing, which a rollback cannot undo and need not).
 */
function state() {
  const s = snapshotHost({ netns: t.host });
  const links = s.netns?.links as Array<{ flags?: string[] }> | undefined;
  for (const l of links ?? []) l.flags = l.flags?.filter((f) => f !== 'LOWER_UP' && f !== 'NO-CARRIER');
  for (const r of (s.netns?.routes ?? []) as Array<{ flags?: string[] }>) r.flags = r.flags?.filter((f) => f !== 'linkdown');
  return s;
}
const link = (name: string) => JSON.parse(inNetns(t.host, 'ip', '-j', '-d', 'link', 'show', 'dev', name).stdout)[0] as { master?: string; linkinfo?: { info_kind?: string; info_data?: { stp_state?: number } } };
const addressesOf = (dev: string) => (JSON.parse(inNetns(t.host, 'ip', '-j', '-4', 'addr', 'show', 'dev', dev).stdout)[0]?.addr_info ?? []).map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
const defaultRoute = () => inNetns(t.host, 'ip', 'route', 'show', 'default').stdout.trim();

beforeAll(() => {
  t = createTopology('br');
  o = { stateDir: newStateDir(), netns: t.host };
});

afterAll(() => {
  if (t) destroyTopology(t);
  removeStateDirs();
});

describe('bridge create | list', () => {
  it('bad names are exit 2 before anything runs', async () => {
    const before = state();
    for (const name of ['this-is-16-bytes', 'br/0', 'br:0', 'br 0']) {
      const r = await cli(['bridge', 'create', name], o);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^kvmctl: error: invalid bridge name ${JSON.stringify(name).replace(/[/]/g, '\\/')}: `));
    }
    expect(state()).toEqual(before);
  });

  it('creates a bridge with its address; the same again is unchanged; other settings are exit 4', async () => {
    const r = await cli(['bridge', 'create', BR, '--address', '10.66.0.1/24'], o);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `bridge ${BR} created (STP off, address 10.66.0.1/24) and up\n` });
    expect(link(BR).linkinfo).toMatchObject({ info_kind: 'bridge', info_data: { stp_state: 0 } });
    expect(addressesOf(BR)).toEqual(['10.66.0.1/24']);
    const again = await cli(['bridge', 'create', BR, '--address', '10.66.0.1/24'], o);
    expect(again).toMatchObject({ code: 0, stdout: `bridge ${BR} unchanged\n` });
    const before = state();
    const stp = await cli(['bridge', 'create', BR, '--stp'], o);
    expect(stp.code).toBe(4);
    expect(stp.stderr).toContain(`bridge ${BR} already exists with other settings: STP is off on it`);
    const overlap = await cli(['bridge', 'create', 'ktbr1', '--address', '198.51.100.7/24'], o);
    expect(overlap.code).toBe(4);
    expect(overlap.stderr).toContain('--address 198.51.100.7/24 overlaps 198.51.100.1/24 of up0');
    expect(state()).toEqual(before);
  });

  it('--stp turns on the spanning tree', async () => {
    expect((await cli(['bridge', 'create', 'ktstp0', '--stp'], o)).code).toBe(0);
    expect(link('ktstp0').linkinfo?.info_data?.stp_state).toBe(1);
    expect((await cli(['bridge', 'delete', 'ktstp0'], o)).code).toBe(0);
    expect(inNetns(t.host, 'ip', 'link', 'show', 'dev', 'ktstp0').code).not.toBe(0);
  });

  it('list shows it as JSON with its address and (no) ports', async () => {
    const r = await cli(['bridge', 'list', '-o', 'json'], o);
    expect(r.code).toBe(0);
    expect(parseOutput(['bridge', 'list'], r.stdout)).toEqual([{ name: BR, state: expect.stringMatching(/^(up|down|unknown)$/), mtu: 1500, stp: false, mac: expect.any(String), addresses: [{ address: '10.66.0.1', prefix: 24, mac: expect.any(String), source: 'kernel' }], ports: [], vms: [] }]);
  });
});

describe('bridge attach | detach with the NIC that carries the default route', () => {
  it('without --move-address is refused (exit 5) and nothing changes', async () => {
    const before = state();
    const r = await cli(['bridge', 'attach', BR, 'up0'], o);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      `kvmctl: error: up0 carries the default route: enslaving it to ${BR} without its addresses cuts this host off the network\n` +
        `hint: move its addresses and routes to the bridge in the same step: kvmctl -c '${lab.uri}' bridge attach ${BR} up0 --move-address\n`,
    );
    expect(state()).toEqual(before);
    expect(ping(t.host, LAN_PEER)).toBe(true);
  });

  it('a step that fails midway moves everything back (every step in turn)', async () => {
    await faultSweep({
      args: ['bridge', 'attach', BR, 'up0', '--move-address'],
      label: `bridge attach ${BR} up0`,
      o,
      snapshot: state,
      undoSuccess: async () => {
        const r = await cli(['bridge', 'detach', BR, 'up0', '--move-address'], o);
        expect(r.code).toBe(0);
      },
    });
    expect(ping(t.host, LAN_PEER)).toBe(true);
  });

  it('--move-address moves addresses and the default route to the bridge; the LAN peer stays reachable', async () => {
    const r = await cli(['bridge', 'attach', BR, 'up0', '--move-address'], o);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `up0 attached to ${BR}; moved ${LAN_HOST}/24, route default via ${LAN_PEER} to ${BR}\n` });
    expect(link('up0').master).toBe(BR);
    expect(addressesOf('up0')).toEqual([]);
    expect(addressesOf(BR)).toEqual(['10.66.0.1/24', `${LAN_HOST}/24`]);
    expect(defaultRoute()).toBe(`default via ${LAN_PEER} dev ${BR}`);
    expect(ping(t.host, LAN_PEER)).toBe(true);
    expect(ping(t.lan, LAN_HOST)).toBe(true);
  });

  it('the bridge now refuses to be deleted, even with --force, and to lose its uplink without --move-address', async () => {
    const before = state();
    const del = await cli(['bridge', 'delete', BR, '--force'], o);
    expect(del.code).toBe(5);
    expect(del.stderr).toContain(`bridge ${BR} carries the default route: deleting it cuts this host off`);
    const detach = await cli(['bridge', 'detach', BR, 'up0'], o);
    expect(detach.code).toBe(5);
    expect(detach.stderr).toContain(`${BR} carries the default route: releasing its uplink up0 cuts this host off the network`);
    expect(state()).toEqual(before);
  });

  it('detach --move-address moves back exactly what attach moved; the bridge keeps its own address', async () => {
    const r = await cli(['bridge', 'detach', BR, 'up0', '--move-address'], o);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `up0 detached from ${BR}; moved ${LAN_HOST}/24, route default via ${LAN_PEER} to up0\n` });
    expect(link('up0').master).toBeUndefined();
    expect(addressesOf('up0')).toEqual([`${LAN_HOST}/24`]);
    expect(addressesOf(BR)).toEqual(['10.66.0.1/24']);
    expect(defaultRoute()).toBe(`default via ${LAN_PEER} dev up0`);
    expect(ping(t.host, LAN_PEER)).toBe(true);
  });
});

describe('bridge delete', () => {
  it('is refused while a port uses it, unless --force', async () => {
    expect((await cli(['bridge', 'attach', BR, 'cl0'], o)).code).toBe(0);
    expect(link('cl0').master).toBe(BR);
    const again = await cli(['bridge', 'attach', BR, 'cl0'], o);
    expect(again).toMatchObject({ code: 0, stdout: `cl0 is already attached to ${BR}: unchanged\n` });
    const before = state();
    const r = await cli(['bridge', 'delete', BR], o);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`kvmctl: error: bridge ${BR} is in use: ports cl0\nhint: detach them first, or delete it anyway with: kvmctl -c '${lab.uri}' bridge delete ${BR} --force\n`);
    expect(state()).toEqual(before);
    const forced = await cli(['bridge', 'delete', BR, '--force'], o);
    expect(forced).toMatchObject({ code: 0, stdout: `bridge ${BR} deleted (it was used by ports cl0)\n` });
    expect(inNetns(t.host, 'ip', 'link', 'show', 'dev', BR).code).not.toBe(0);
    expect(link('cl0').master).toBeUndefined();
  });

  it('a bridge that does not exist is exit 3', async () => {
    const r = await cli(['bridge', 'delete', BR], o);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`bridge "${BR}" not found`);
  });

  it('attaching to a bridge that is not one is exit 2; to a missing NIC exit 3', async () => {
    inNs(t.host, ['ip', 'link', 'add', 'ktv0', 'type', 'veth', 'peer', 'name', 'ktv1']);
    const notBridge = await cli(['bridge', 'attach', 'ktv0', 'cl0'], o);
    expect(notBridge.code).toBe(2);
    expect(notBridge.stderr).toContain('ktv0 is not a bridge (it is a veth interface)');
    expect((await cli(['bridge', 'create', BR], o)).code).toBe(0);
    const missing = await cli(['bridge', 'attach', BR, 'eth9'], o);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('interface "eth9" not found');
  });
});
