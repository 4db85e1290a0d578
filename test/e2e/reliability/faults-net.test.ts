/**
 * Every state-changing step of bridge attach --move-address, net nat enable and
 * net forward add made to fail in turn, with real ip, sysctl and iptables in a
 * network namespace this file makes: exit 7 and the namespace (links,
 * addresses, routes, iptables-save, ip_forward) and kvmctl's own records
 * exactly as before. The machine's own namespace is never touched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteNetns, faultSweep, inNetns, inNs, makeNetns, newStateDir, printTally, record, removeStateDirs, snapshotHost } from './harness.js';

// Unique per run: network namespace names are machine-wide, and runs of other checkouts may overlap.
const NS = `rel-fnet-${process.pid.toString(36)}`;
const PEER = 'rel-fnet-peer';
let stateDir = '';
const o = () => ({ stateDir, netns: NS });
/** The namespace, and kvmctl's per-namespace records (NAT, address moves). */
const snapshot = () => snapshotHost({ netns: NS, dirs: [join(stateDir, 'net')] });

function ipJson(...args: string[]): any[] {
  return JSON.parse(inNetns(NS, 'ip', '-j', ...args).stdout);
}

describe('faults in network operations roll back to the exact before-state (in a test namespace)', () => {
  beforeAll(() => {
    stateDir = newStateDir();
    makeNetns(NS);
    makeNetns(PEER);
    // An uplink with an address, a default route and one more route, as on a host; its peer is the "router".
    inNs(
      NS,
      ['ip', 'link', 'add', 'relv0', 'type', 'veth', 'peer', 'name', 'relv0p'],
      ['ip', 'link', 'set', 'relv0p', 'netns', PEER],
      ['ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'relv0'],
      ['ip', 'link', 'set', 'relv0', 'up'],
      ['ip', 'link', 'add', 'relbr0', 'type', 'bridge'],
      ['ip', 'link', 'add', 'relnat0', 'type', 'bridge'],
      ['ip', 'link', 'set', 'relnat0', 'up'],
    );
    inNs(PEER, ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'relv0p'], ['ip', 'link', 'set', 'relv0p', 'up']);
    inNs(NS, ['ip', 'route', 'add', 'default', 'via', '10.77.0.1', 'dev', 'relv0'], ['ip', 'route', 'add', '10.78.0.0/24', 'via', '10.77.0.1', 'dev', 'relv0'], ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  });
  afterAll(() => {
    deleteNetns(NS);
    deleteNetns(PEER);
    removeStateDirs();
    printTally();
  });

  it('bridge attach --move-address (bridge up, enslave, address and both routes moved): every step', async () => {
    const r = await faultSweep({
      args: ['bridge', 'attach', 'relbr0', 'relv0', '--move-address'],
      label: 'bridge attach relbr0 relv0',
      o: o(),
      snapshot,
      checkSuccess: (ok) => {
        expect(ok.stdout).toMatch(/^relv0 attached to relbr0; moved 10\.77\.0\.2\/24, route default via 10\.77\.0\.1, route 10\.78\.0\.0\/24 via 10\.77\.0\.1 to relbr0$/m);
        expect(ipJson('route', 'show', 'default')[0]).toMatchObject({ dev: 'relbr0', gateway: '10.77.0.1' });
        expect(ipJson('link', 'show', 'relv0')[0].master).toBe('relbr0');
      },
      undoSuccess: async () => {
        const d = await cli(['bridge', 'detach', 'relbr0', 'relv0', '--move-address'], o());
        expect(d.code, d.stderr).toBe(0);
        inNs(NS, ['ip', 'link', 'set', 'relbr0', 'down']);
      },
    });
    expect(r.steps.map((s) => s.split(' ').slice(0, 4).join(' '))).toEqual([
      'ip link set dev',
      'ip link set dev',
      'ip addr del 10.77.0.2/24',
      'ip addr add 10.77.0.2/24',
      'ip route replace default',
      'ip route replace 10.78.0.0/24',
    ]);
    record('fault', 'bridge attach --move-address', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });

  it('net nat enable (gateway address, ip_forward, MASQUERADE and FORWARD rules): every step', async () => {
    const r = await faultSweep({
      args: ['net', 'nat', 'enable', '--bridge', 'relnat0', '--subnet', '10.79.0.0/24'],
      label: 'net nat enable --bridge relnat0',
      o: o(),
      snapshot,
      checkSuccess: (ok) => {
        expect(ok.stdout).toMatch(/^NAT enabled on relnat0 for 10\.79\.0\.0\/24/);
        expect(inNetns(NS, 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.trim()).toBe('1');
      },
      undoSuccess: async () => {
        const d = await cli(['net', 'nat', 'disable', '--bridge', 'relnat0'], o());
        expect(d.code, d.stderr).toBe(0);
      },
    });
    expect(r.steps[0]).toMatch(/^ip addr add 10\.79\.0\.1\/24 .*dev relnat0$/);
    expect(r.steps[1]).toBe('sysctl -w net.ipv4.ip_forward=1');
    expect(r.steps.slice(2).every((s) => s.startsWith('iptables '))).toBe(true);
    record('fault', 'net nat enable', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });

  it('net forward add (DNAT and FORWARD rules): every step', async () => {
    const r = await faultSweep({
      args: ['net', 'forward', 'add', '--port', '8080', '--to', '10.79.0.5:80'],
      label: 'net forward add tcp-8080',
      o: o(),
      snapshot,
      checkSuccess: (ok) => expect(ok.stdout).toMatch(/^forward tcp-8080: host port 8080\/tcp -> 10\.79\.0\.5:80/),
      undoSuccess: async () => {
        const d = await cli(['net', 'forward', 'delete', '8080'], o());
        expect(d.code, d.stderr).toBe(0);
      },
    });
    expect(r.steps.every((s) => s.startsWith('iptables '))).toBe(true);
    record('fault', 'net forward add', 'fail:K for every step K, and fail:N+1 (completes)', r.runs);
  });
});
