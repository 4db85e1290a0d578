/**
 * A snapshot of everything kvmctl could change on a host, for "nothing changed"
 * assertions: domains (inactive XML), pools, volumes, networks (XML), the files
 * under given directories (sha256), and a network namespace's links, addresses,
 * routes, iptables rules and ip_forward. Compare two with expect(after).toEqual(before).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns, lab, virsh } from './lab.js';

export interface HostState {
  domains: Record<string, string>;
  autostart: string[];
  pools: Record<string, string>;
  volumes: Record<string, string>;
  networks: Record<string, string>;
  files: Record<string, string>;
  netns?: { links: unknown; addresses: unknown; routes: unknown; iptables: string; ipForward: string };
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

function must(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r.stdout;
}

/** Drops counters and run-time fields that change by themselves (sizes of logs, etc.). */
function stableIptables(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

export function hashFiles(dir: string, into: Record<string, string> = {}): Record<string, string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return into;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) into[p] = `symlink:${readlinkSync(p)}`;
    else if (st.isDirectory()) {
      into[p] = 'dir';
      hashFiles(p, into);
    } else into[p] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return into;
}

export function snapshotHost(opts: { dirs?: string[]; netns?: string } = {}): HostState {
  const state: HostState = { domains: {}, autostart: [], pools: {}, volumes: {}, networks: {}, files: {} };
  for (const d of lines(must(virsh('list', '--all', '--name'), 'virsh list'))) {
    state.domains[d] = must(virsh('dumpxml', '--inactive', '--domain', d), `dumpxml ${d}`);
  }
  state.autostart = lines(must(virsh('list', '--all', '--autostart', '--name'), 'virsh list --autostart'));
  for (const p of lines(must(virsh('pool-list', '--all', '--name'), 'pool-list'))) {
    state.pools[p] = must(virsh('pool-dumpxml', '--pool', p), `pool-dumpxml ${p}`) + must(virsh('pool-info', '--pool', p), 'pool-info').replace(/^(Capacity|Allocation|Available):.*$/gm, '');
    const vols = virsh('vol-list', '--pool', p);
    if (vols.code === 0) {
      for (const line of lines(vols.stdout).slice(2)) {
        const [name, ...path] = line.split(/\s+/);
        state.volumes[`${p}/${name}`] = path.join(' ');
      }
    }
  }
  for (const n of lines(must(virsh('net-list', '--all', '--name'), 'net-list'))) {
    state.networks[n] = must(virsh('net-dumpxml', '--network', n), `net-dumpxml ${n}`);
  }
  for (const dir of opts.dirs ?? []) hashFiles(dir, state.files);
  const ns = opts.netns === undefined ? lab.netns : opts.netns;
  if (ns) {
    state.netns = {
      links: JSON.parse(must(inNetns(ns, 'ip', '-j', 'link', 'show'), 'ip link')).map((l: Record<string, unknown>) => ({ ifname: l.ifname, master: l.master, mtu: l.mtu, flags: l.flags })),
      addresses: JSON.parse(must(inNetns(ns, 'ip', '-j', 'addr', 'show'), 'ip addr')).map((l: { ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }) => ({ ifname: l.ifname, addrs: l.addr_info.map((a) => `${a.local}/${a.prefixlen}`) })),
      routes: JSON.parse(must(inNetns(ns, 'ip', '-j', 'route', 'show'), 'ip route')),
      iptables: stableIptables(must(inNetns(ns, 'iptables-save'), 'iptables-save')),
      ipForward: readNetnsFile(ns, '/proc/sys/net/ipv4/ip_forward'),
    };
  }
  return state;
}

function readNetnsFile(ns: string, path: string): string {
  return must(inNetns(ns, 'cat', path), `cat ${path}`).trim();
}
