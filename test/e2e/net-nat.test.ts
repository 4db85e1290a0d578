/**
 * kvmctl net nat and net forward in namespaces made by this test (see
 * netns.ts): a bridge in "host" with the "client" behind it, the "LAN" outside.
 * Real iptables, real sysctl, real traffic between the namespaces only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../support/schemas.js';
import { addressClient, createTopology, destroyTopology, fetchTcp, LAN_HOST, LAN_PEER, ping, startServer, type Server, type Topology } from './netns.js';
import { cli, faultSweep, inNetns, inNs, lab, newStateDir, removeStateDirs, snapshotHost, type CliOptions } from './reliability/harness.js';

const BRIDGE = 'ktnat0';
const SUBNET = '10.77.0.0/24';
const CLIENT = '10.77.0.2';
let t: Topology;
let o: CliOptions;
let server: Server | undefined;
/** The host namespace before NAT was ever enabled. */
let pristine: ReturnType<typeof snapshotHost>;

const firewall = () => inNetns(t.host, 'iptables-save').stdout;
const tagged = (tag: string) => firewall().split('\n').filter((l) => l.includes(`"${tag}"`));
const ipForward = () => inNetns(t.host, 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.trim();
/** The host namespace: links, addresses, routes, iptables-save, ip_forward (and the lab's libvirt objects). */
const state = () => snapshotHost({ netns: t.host });

beforeAll(async () => {
  t = createTopology('nat');
  o = { stateDir: newStateDir(), netns: t.host };
  // The bridge the client sits behind, made by kvmctl itself, with no address yet.
  for (const args of [['bridge', 'create', BRIDGE], ['bridge', 'attach', BRIDGE, 'cl0']]) {
    const r = await cli(args, o);
    if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')}: ${r.stderr}`);
  }
  addressClient(t, '10.77.0');
  // Someone else's rules, which kvmctl must leave alone.
  inNs(t.host, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '172.17.0.0/16', '!', '-o', 'docker0', '-j', 'MASQUERADE'], ['iptables', '-A', 'FORWARD', '-i', 'docker0', '-j', 'ACCEPT']);
  server = await startServer(t.client, CLIENT, 8080, 'hello from the client\n');
});

afterAll(() => {
  server?.stop();
  if (t) destroyTopology(t);
  removeStateDirs();
});

describe('net nat (namespaces)', () => {
  it('without NAT the client cannot reach the LAN (the LAN has no route back)', () => {
    expect(ping(t.client, LAN_PEER)).toBe(false);
    expect(ipForward()).toBe('0');
    pristine = state();
  });

  it('an error midway takes back whatever that run had done (every step in turn)', async () => {
    await faultSweep({
      args: ['net', 'nat', 'enable', '--bridge', BRIDGE, '--subnet', SUBNET, '--out', 'up0'],
      label: `net nat enable --bridge ${BRIDGE}`,
      o,
      snapshot: state,
      undoSuccess: async () => {
        const r = await cli(['net', 'nat', 'disable', '--bridge', BRIDGE], o);
        expect(r.code).toBe(0);
      },
    });
  });

  it('enable gives the bridge its gateway, turns ip_forward on and adds three tagged rules', async () => {
    const r = await cli(['net', 'nat', 'enable', '--bridge', BRIDGE, '--subnet', SUBNET, '-o', 'json'], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseOutput(['net', 'nat', 'enable'], r.stdout)).toEqual({ bridge: BRIDGE, subnet: SUBNET, out: null, changed: true, rulesAdded: 3, gateway: '10.77.0.1/24', gatewayAdded: true, ipForwardTurnedOn: true });
    expect(tagged(`kvmctl:nat:${BRIDGE}`)).toEqual([
      `-A FORWARD -d ${SUBNET} -o ${BRIDGE} -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "kvmctl:nat:${BRIDGE}" -j ACCEPT`,
      `-A FORWARD -s ${SUBNET} -i ${BRIDGE} -m comment --comment "kvmctl:nat:${BRIDGE}" -j ACCEPT`,
      `-A POSTROUTING -s ${SUBNET} ! -d ${SUBNET} -m comment --comment "kvmctl:nat:${BRIDGE}" -j MASQUERADE`,
    ]);
    expect(ipForward()).toBe('1');
    expect(inNetns(t.host, 'ip', '-br', 'addr', 'show', 'dev', BRIDGE).stdout).toContain('10.77.0.1/24');
  });

  it('enable twice adds nothing the second time', async () => {
    const fw = firewall();
    const r = await cli(['net', 'nat', 'enable', '--bridge', BRIDGE, '--subnet', SUBNET], o);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`NAT on ${BRIDGE} for ${SUBNET} unchanged\n`);
    expect(firewall().replace(/^#.*\n/gm, '')).toBe(fw.replace(/^#.*\n/gm, ''));
    expect(tagged(`kvmctl:nat:${BRIDGE}`)).toHaveLength(3);
  });

  it('the client behind the bridge now reaches the LAN', () => {
    expect(inNetns(t.lan, 'ip', 'route', 'get', CLIENT).stdout).not.toContain('10.77.0.');
    expect(ping(t.client, LAN_PEER)).toBe(true);
  });

  it('other settings for the same bridge are exit 4 and change nothing', async () => {
    const s = state();
    const r = await cli(['net', 'nat', 'enable', '--bridge', BRIDGE, '--subnet', '10.78.0.0/24'], o);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`kvmctl: error: NAT on ${BRIDGE} is already enabled with other settings (subnet ${SUBNET})\nhint: disable it first: kvmctl -c '${lab.uri}' net nat disable --bridge ${BRIDGE}\n`);
    expect(state()).toEqual(s);
  });

  it('net nat list shows kvmctl\'s rule and the other one, with owners', async () => {
    const r = await cli(['net', 'nat', 'list', '-o', 'json'], o);
    expect(r.code).toBe(0);
    const rules = parseOutput<Array<{ source: string; target: string; owner: string }>>(['net', 'nat', 'list'], r.stdout);
    expect(rules.map((x) => `${x.source} ${x.target} ${x.owner}`).sort()).toEqual([`${SUBNET} MASQUERADE kvmctl`, '172.17.0.0/16 MASQUERADE other']);
  });
});

describe('net forward (namespaces)', () => {
  it('a forwarded port on the host reaches the server behind the bridge, from the LAN and from the host', async () => {
    expect(await fetchTcp(t.lan, LAN_HOST, 2222)).toBe('error: ECONNREFUSED');
    const r = await cli(['net', 'forward', 'add', '--port', '2222', '--to', `${CLIENT}:8080`], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`forward tcp-2222: host port 2222/tcp -> ${CLIENT}:8080\n`);
    expect(tagged('kvmctl:fwd:tcp-2222')).toHaveLength(4);
    expect(await fetchTcp(t.lan, LAN_HOST, 2222)).toBe('hello from the client');
    expect(await fetchTcp(t.host, LAN_HOST, 2222)).toBe('hello from the client');
  });

  it('adding it again changes nothing; another target for the port is exit 4', async () => {
    const fw = firewall().replace(/^#.*\n/gm, '');
    const again = await cli(['net', 'forward', 'add', '--port', '2222', '--to', `${CLIENT}:8080`], o);
    expect(again).toMatchObject({ code: 0, stdout: `forward tcp-2222 -> ${CLIENT}:8080 unchanged\n` });
    const other = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.9:22'], o);
    expect(other.code).toBe(4);
    expect(other.stderr).toContain(`tcp port 2222 is already forwarded to ${CLIENT}:8080`);
    const badPort = await cli(['net', 'forward', 'add', '--port', '70000', '--to', `${CLIENT}:8080`], o);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('invalid --port 70000: 70000 is not a port (1-65535)');
    expect(firewall().replace(/^#.*\n/gm, '')).toBe(fw);
  });

  it('forward list shows it', async () => {
    const r = await cli(['net', 'forward', 'list', '-o', 'json'], o);
    expect(r.code).toBe(0);
    expect(parseOutput(['net', 'forward', 'list'], r.stdout)).toEqual([{ id: 'tcp-2222', protocol: 'tcp', port: { first: 2222, last: 2222 }, toAddress: CLIENT, toPort: { first: 8080, last: 8080 }, network: null, vm: null, complete: true }]);
  });

  it('forward delete removes its rules and the port is closed again', async () => {
    const r = await cli(['net', 'forward', 'delete', '2222'], o);
    expect(r).toMatchObject({ code: 0, stdout: 'forward tcp-2222 deleted (4 rules removed)\n' });
    expect(tagged('kvmctl:fwd:tcp-2222')).toEqual([]);
    expect(await fetchTcp(t.lan, LAN_HOST, 2222)).toBe('error: ECONNREFUSED');
    const again = await cli(['net', 'forward', 'delete', '2222'], o);
    expect(again.code).toBe(3);
  });
});

describe('net nat disable (namespaces)', () => {
  it('removes exactly its rules and address and restores ip_forward: the namespace is as before', async () => {
    const before = state();
    const r = await cli(['net', 'nat', 'disable', '--bridge', BRIDGE], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`NAT disabled on ${BRIDGE}: 3 rules removed, address 10.77.0.1/24 removed from ${BRIDGE}, ip_forward turned off again\n`);
    const after = state();
    expect(after.netns?.ipForward).toBe('0');
    expect(after.netns?.iptables).toBe(before.netns?.iptables.split('\n').filter((l) => !l.includes('kvmctl:nat:')).join('\n'));
    expect(firewall()).toContain('-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE');
    expect(firewall()).toContain('-A FORWARD -i docker0 -j ACCEPT');
    expect(ping(t.client, LAN_PEER)).toBe(false);
  });

  it('equals the state from before NAT was ever enabled; a second disable finds it absent (exit 3, --if-exists: 0), changing nothing', async () => {
    expect(state()).toEqual(pristine);
    const r = await cli(['net', 'nat', 'disable', '--bridge', BRIDGE], o);
    expect(r).toMatchObject({ code: 3, stdout: '' });
    expect(r.stderr).toContain(`NAT on ${BRIDGE} was not enabled by kvmctl: nothing to remove`);
    const again = await cli(['net', 'nat', 'disable', '--bridge', BRIDGE, '--if-exists'], o);
    expect(again.code).toBe(0);
    expect(state()).toEqual(pristine);
  });
});
