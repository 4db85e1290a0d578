/**
 * Throwaway network namespaces for the bridge and NAT tests, so that bridges,
 * veths, iptables rules and sysctls are only ever changed inside them:
 *
 *   lan (eth0 198.51.100.2/24)  <--veth-->  host (up0 198.51.100.1/24, default via .2)
 *                                           host (cl0)  <--veth-->  client (eth0)
 *
 * kvmctl runs in `host`; `lan` plays the network outside; `client` plays a VM
 * behind a bridge that the tests make in `host` and attach cl0 to. `lan` has no
 * route to the client's subnet, so the client reaches it only through NAT.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deleteNetns, inNs, makeNetns, sh } from './reliability/harness.js';

export const LAN_HOST = '198.51.100.1';
export const LAN_PEER = '198.51.100.2';

export interface Topology {
  host: string;
  lan: string;
  client: string;
  all: string[];
}

/** Names unique per run (kvmctl-t-TAG-XXXX-h|l|c), so parallel labs and earlier runs never collide. */
export function createTopology(tag: string): Topology {
  const id = `kvmctl-t-${tag}-${randomBytes(2).toString('hex')}`;
  const t: Topology = { host: `${id}-h`, lan: `${id}-l`, client: `${id}-c`, all: [] };
  t.all = [t.host, t.lan, t.client];
  try {
    for (const ns of t.all) makeNetns(ns);
    link(t.host, 'up0', t.lan, 'eth0');
    link(t.host, 'cl0', t.client, 'eth0');
    inNs(t.lan, ['ip', 'addr', 'add', `${LAN_PEER}/24`, 'dev', 'eth0'], ['ip', 'link', 'set', 'eth0', 'up']);
    inNs(t.host, ['ip', 'addr', 'add', `${LAN_HOST}/24`, 'dev', 'up0'], ['ip', 'link', 'set', 'up0', 'up'], ['ip', 'route', 'add', 'default', 'via', LAN_PEER], ['ip', 'link', 'set', 'cl0', 'up']);
    inNs(t.client, ['ip', 'link', 'set', 'eth0', 'up']);
  } catch (e) {
    destroyTopology(t);
    throw e;
  }
  return t;
}

/** A veth pair with one end in each namespace. */
function link(nsA: string, a: string, nsB: string, b: string): void {
  const r = sh('ip', 'link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB);
  if (r.code !== 0) throw new Error(`veth ${nsA}/${a} <-> ${nsB}/${b}: ${r.stderr}`);
}

/** Deleting a namespace deletes its veths, bridges and firewall with it. */
export function destroyTopology(t: Topology): void {
  for (const ns of t.all) deleteNetns(ns);
}

/** Gives the client an address in SUBNET's .2 and its default route via .1 (the bridge's gateway). */
export function addressClient(t: Topology, prefix3: string): void {
  inNs(t.client, ['ip', 'addr', 'add', `${prefix3}.2/24`, 'dev', 'eth0'], ['ip', 'route', 'add', 'default', 'via', `${prefix3}.1`]);
}

/** One ICMP echo with busybox (the lab installs busybox-static). */
export function ping(ns: string, address: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '2', address], { encoding: 'utf8' }).status === 0;
}

export interface Server {
  stop(): void;
}

/**
 * A tiny TCP server (node) in a namespace that answers each connection with
 * `reply`. `ip netns exec` execs node in place, so the child's pid is the server's.
 */
export async function startServer(ns: string, address: string, port: number, reply: string): Promise<Server> {
  const script = `require('net').createServer((s) => s.end(${JSON.stringify(reply)})).listen(${port}, ${JSON.stringify(address)}, () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`server in ${ns} exited ${code}: ${err}`)));
  });
  return {
    stop() {
      if (child.exitCode === null) process.kill(child.pid ?? -1, 'SIGTERM');
    },
  };
}

/** Connects from a namespace and returns what the server said, or "error: ..." (3 s at most). */
export function fetchTcp(ns: string, address: string, port: number): Promise<string> {
  const script = `const s = require('net').connect(${port}, ${JSON.stringify(address)}); let d = ''; s.setTimeout(3000, () => { console.log('error: timeout'); process.exit(0); }); s.on('data', (x) => (d += x)); s.on('end', () => console.log(d)); s.on('error', (e) => console.log('error: ' + e.code))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', () => resolve(out.trim())));
}

