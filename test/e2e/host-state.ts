/**
 * A snapshot of everything kvmctl could change on a host, for "nothing changed"
 * assertions: domains (inactive XML, state, autostart), pools, volumes (path
 * and a checksum of the file), networks (XML, state, autostart), the files
 * under given directories (sha256), and a network namespace's links,
 * addresses, routes, iptables rules and ip_forward. Compare two with
 * expect(after).toEqual(before).
 *
 * It reads with plain virsh/ip/iptables-save, independently of kvmctl: two
 * virsh processes (lists, then every object's XML in one batch) and one shell
 * in the namespace, so a snapshot costs well under a second.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { inNetns, lab } from './lab.js';

export interface HostState {
  domains: Record<string, string>;
  /** "name: state" for every domain (the inactive XML does not say whether it runs). */
  domainStates: string[];
  autostart: string[];
  pools: Record<string, string>;
  /** pool/volume -> "path sha256" (or a size/time signature for files over 1 GiB). */
  volumes: Record<string, string>;
  networks: Record<string, string>;
  /** net-info of every libvirt network (active, persistent, autostart, bridge). */
  networkStates: string[];
  /** Files under the given directories, and "target PATH" for each path an attack aimed at (pathSignature). */
  files: Record<string, string>;
  netns?: NetnsState;
  /** More namespaces, when several were asked for (the first is in netns). */
  namespaces?: Record<string, NetnsState>;
}

export interface NetnsState {
  links: unknown;
  addresses: unknown;
  routes: unknown;
  iptables: string;
  ipForward: string;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function must(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r.stdout;
}

const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/**
 * iptables-save without counters and comments (they hold times), tables in
 * name order, and without tables that are empty with every built-in chain
 * ACCEPT: the kernel creates a table on first use and never removes it, and
 * with the nf_tables backend the order of tables is the order of first use.
 */
export function stableIptables(save: string): string {
  const tables = save
    .split(/^(?=\*)/m)
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]')),
    )
    .filter((lines) => lines.length > 0);
  const meaningful = tables.filter((lines) => lines.some((l) => l.startsWith('-') || (l.startsWith(':') && !(BUILTIN_CHAINS.has(l.slice(1).split(' ')[0] ?? '') && l.includes(' ACCEPT ')))));
  return meaningful
    .map((lines) => lines.join('\n'))
    .sort()
    .join('\n');
}

const SEPARATOR = 'HOST-STATE-SEPARATOR-7d1f0c';

/** virsh's own command-line quoting (POSIX-like single quotes). */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs several virsh commands in one process; returns each one's stdout. UTF-8,
 * because in the C locale virsh prints other bytes of a name as \xff escapes.
 */
function virshBatch(commands: string[][]): string[] {
  if (commands.length === 0) return [];
  const line = commands.map((argv) => argv.map(q).join(' ')).join(` ; echo ${SEPARATOR} ; `);
  const run = spawnSync('virsh', ['-c', lab.uri, line], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' }, maxBuffer: 256 * 1024 * 1024 });
  const r = { stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
  const parts = r.stdout.split(`${SEPARATOR}\n`);
  if (parts.length !== commands.length) throw new Error(`virsh batch gave ${parts.length} outputs for ${commands.length} commands: ${r.stderr}`);
  return parts;
}

const LARGE = 1024 ** 3;
const hashCache = new Map<string, string>();

/**
 * sha256 of a file, read in chunks; cached by inode, size and times so a file
 * that did not change is not read again. Over 1 GiB (a sparse disk), a
 * signature of size and times instead: reading 20 GiB of holes proves little.
 */
function checksum(path: string, st: Stats): string {
  if (st.size > LARGE) return `large:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const cached = hashCache.get(key);
  if (cached !== undefined) return cached;
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const sum = hash.digest('hex');
  hashCache.set(key, sum);
  return sum;
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
    } else if (st.isFile()) into[p] = checksum(p, st);
    else into[p] = `special:${st.mode}`;
  }
  return into;
}

function volumeChecksum(path: string): string {
  try {
    const st = statSync(path);
    return st.isFile() ? checksum(path, st) : `not-a-file:${st.mode}`;
  } catch {
    // A remote or not (yet) existing path: libvirt's listing is all there is.
    return 'no-local-file';
  }
}

/** Links, addresses, routes, iptables rules and ip_forward of one namespace, read by one shell in it. */
function readNetns(ns: string): NetnsState {
  const script = `ip -j link show; echo ${SEPARATOR}; ip -j addr show; echo ${SEPARATOR}; ip -j route show; echo ${SEPARATOR}; iptables-save; echo ${SEPARATOR}; cat /proc/sys/net/ipv4/ip_forward`;
  const [links = '', addrs = '', routes = '', iptables = '', ipForward = ''] = must(inNetns(ns, 'sh', '-c', script), `reading netns ${ns}`).split(`${SEPARATOR}\n`);
  return {
    links: JSON.parse(links).map((l: Record<string, unknown>) => ({ ifname: l.ifname, master: l.master, mtu: l.mtu, flags: l.flags })),
    addresses: JSON.parse(addrs).map((l: { ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }) => ({ ifname: l.ifname, addrs: l.addr_info.map((a) => `${a.local}/${a.prefixlen}`) })),
    routes: JSON.parse(routes),
    iptables: stableIptables(iptables),
    ipForward: ipForward.trim(),
  };
}

/** netns: the namespace to read (default: the lab's; '' for none), or several. */
/**
 * What an attack aimed at a path outside the pools could change: a regular
 * file's sha256 and size, a symlink's target, a directory's entries (names
 * and kinds, not read deeper), a device's number; with owner and mode.
 */
export function pathSignature(path: string): string {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return 'absent';
  }
  const meta = `${st.uid}:${st.gid}:${st.mode.toString(8)}`;
  if (st.isSymbolicLink()) return `symlink:${readlinkSync(path)}`;
  if (st.isFile()) return `file:${meta}:${st.size}:${checksum(path, st)}`;
  if (st.isDirectory()) {
    const entries = readdirSync(path).sort().map((e) => {
      const c = lstatSync(join(path, e));
      return `${e}:${c.isDirectory() ? 'd' : c.isSymbolicLink() ? 'l' : c.isFile() ? 'f' : 's'}`;
    });
    return `dir:${meta}:${entries.join(',')}`;
  }
  return `special:${meta}:${st.rdev}`;
}

export function snapshotHost(opts: { dirs?: string[]; netns?: string | string[]; paths?: string[] } = {}): HostState {
  const state: HostState = { domains: {}, domainStates: [], autostart: [], pools: {}, volumes: {}, networks: {}, networkStates: [], files: {} };
  const [names = '', autostart = '', pools = '', nets = ''] = virshBatch([
    ['list', '--all', '--name'],
    ['list', '--all', '--autostart', '--name'],
    ['pool-list', '--all', '--name'],
    ['net-list', '--all', '--name'],
  ]);
  const domains = lines(names);
  state.autostart = lines(autostart).sort();
  const poolNames = lines(pools);
  const netNames = lines(nets);

  const words: string[][] = [
    ...domains.flatMap((d) => [
      ['dumpxml', '--inactive', '--domain', d],
      ['domstate', '--domain', d],
    ]),
    ...poolNames.flatMap((p) => [
      ['pool-dumpxml', '--pool', p],
      ['pool-info', '--pool', p],
      ['vol-list', '--pool', p],
    ]),
    ...netNames.flatMap((n) => [
      ['net-dumpxml', '--network', n],
      ['net-info', '--network', n],
    ]),
  ];
  const out = virshBatch(words);
  let i = 0;
  for (const d of domains) {
    state.domains[d] = out[i++] ?? '';
    state.domainStates.push(`${d}: ${(out[i++] ?? '').trim()}`);
  }
  for (const p of poolNames) {
    const xml = out[i++] ?? '';
    const info = (out[i++] ?? '').replace(/^(Capacity|Allocation|Available):.*$/gm, '');
    // A directory pool's capacity, allocation and available space are its filesystem's, which other writers change.
    state.pools[p] = xml.replace(/^\s*<(capacity|allocation|available) unit='bytes'>\d+<\/\1>\n/gm, '') + info;
    // " Name   Path" table: the Path column starts where its header does (names may hold spaces).
    const table = (out[i++] ?? '').split('\n').filter((l) => l.trim() !== '');
    const at = table[0]?.indexOf('Path') ?? -1;
    for (const line of at < 0 ? [] : table.slice(2)) {
      const name = line.slice(0, at).trim();
      const file = line.slice(at).trim();
      state.volumes[`${p}/${name}`] = `${file} ${volumeChecksum(file)}`;
    }
  }
  for (const n of netNames) {
    state.networks[n] = out[i++] ?? '';
    state.networkStates.push(lines(out[i++] ?? '').join('; '));
  }

  for (const dir of opts.dirs ?? []) hashFiles(dir, state.files);
  for (const p of opts.paths ?? []) state.files[`target ${p}`] = pathSignature(p);
  const wanted = opts.netns === undefined ? [lab.netns] : typeof opts.netns === 'string' ? [opts.netns] : opts.netns;
  const [first, ...more] = wanted.filter((ns) => ns !== '');
  if (first) state.netns = readNetns(first);
  if (more.length > 0) state.namespaces = Object.fromEntries(more.map((ns) => [ns, readNetns(ns)]));
  return state;
}
