/**
 * The sockets that listen in the network namespace kvmctl runs in, from one
 * `ss -H -ltnu` (iproute2): TCP in LISTEN and bound UDP sockets, numeric,
 * without the header line. A port forward on such a port would divert
 * connections meant for the host's own service.
 */
import { readCommand, type Command } from '../exec/command.js';
import { runChecked, type Runner } from '../exec/runner.js';
import type { PortRange, Protocol } from './port-forward.js';

export interface ListeningSocket {
  protocol: Protocol;
  /** As ss prints it, without brackets or %device: "0.0.0.0", "::", "*", "127.0.0.1". */
  address: string;
  /** The device the socket is bound to (SO_BINDTODEVICE), shown by ss as ADDRESS%DEV. */
  device?: string;
  port: number;
}

export function ssListeningCommand(): Command {
  return readCommand('ss', ['-H', '-ltnu']);
}

/** "0.0.0.0:22", "[::]:22", "*:8080", "0.0.0.0%virbr0:67", "[fe80::1]%eth0:53" -> address, device, port. */
function parseLocal(text: string): { address: string; device?: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) return undefined;
  let host = text.slice(0, colon);
  let device: string | undefined;
  const pct = host.lastIndexOf('%');
  if (pct >= 0) {
    device = host.slice(pct + 1);
    host = host.slice(0, pct);
  }
  return { address: host.replace(/^\[(.*)\]$/, '$1'), device, port };
}

export function parseSsListening(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    const [netid, , , , local] = line.trim().split(/\s+/);
    if ((netid !== 'tcp' && netid !== 'udp') || local === undefined) continue;
    const parsed = parseLocal(local);
    if (parsed) out.push({ protocol: netid, ...parsed });
  }
  return out;
}

export async function loadListeningSockets(runner: Runner): Promise<ListeningSocket[]> {
  return parseSsListening(await runChecked(runner, ssListeningCommand()));
}

/**
 * Loopback-only listeners are out of a forward's reach: its DNAT rules never
 * match traffic to 127.0.0.0/8 (OUTPUT excludes it; nothing from outside may
 * arrive for it) and iptables here is IPv4 only, so ::1 is not touched either.
 */
function reachableByForward(s: ListeningSocket): boolean {
  return !/^127\./.test(s.address) && s.address !== '::1';
}

/** The listeners a forward of these ports would take connections from. */
export function listenersInRange(sockets: ListeningSocket[], protocol: Protocol, ports: PortRange): ListeningSocket[] {
  return sockets.filter((s) => s.protocol === protocol && s.port >= ports.start && s.port <= ports.end && reachableByForward(s));
}

export function describeListener(s: ListeningSocket): string {
  const host = s.address.includes(':') ? `[${s.address}]` : s.address;
  return `${s.protocol} ${host}${s.device !== undefined ? `%${s.device}` : ''}:${s.port}`;
}
