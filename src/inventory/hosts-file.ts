/**
 * The hosts inventory: `$KVMCTL_HOSTS`, else `$XDG_CONFIG_HOME/kvmctl/hosts.yaml`
 * (`~/.config/kvmctl/hosts.yaml`). Parsed and edited with the `yaml` library's
 * document model, so comments and order the user wrote survive `host add|remove`.
 *
 *   hosts:
 *     kvm1:
 *       uri: qemu+ssh://root@kvm1/system
 *       labels: { rack: a1, disk: ssd }
 *       migrationAddress: 10.0.0.11
 *   groups:
 *     web: [kvm1, kvm2]
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Document, isMap, isSeq, parseDocument } from 'yaml';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { cachedInventoryData, saveInventoryData } from './parsed-cache.js';
import { parseLibvirtUri } from '../libvirt/uri.js';

export interface InventoryHost {
  name: string;
  uri: string;
  labels: Record<string, string>;
  /** The address other hosts use to reach this one for migration data (libvirt's migrateuri). */
  migrationAddress?: string;
  /** Groups that list this host. */
  groups: string[];
}

export interface Inventory {
  path: string;
  hosts: InventoryHost[];
  groups: Record<string, string[]>;
}

/** Large enough for thousands of hosts; a bigger file is not an inventory. */
const MAX_BYTES = 4 * 1024 * 1024;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;
const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]*(\/[^\s]*)?$/i;
/** One label of a host name (RFC 1123): letters, digits and inner hyphens. */
const NAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** An IPv4 or IPv6 address, or a host name whose last label is not all digits (so 10.0.0.256 is neither). */
export function isAddress(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const labels = text.split('.');
  return text.length <= 253 && labels.every((l) => NAME_LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

export function inventoryPath(env: Record<string, string | undefined>): string {
  if (env.KVMCTL_HOSTS) return env.KVMCTL_HOSTS;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || '/root', '.config');
  return join(config, 'kvmctl', 'hosts.yaml');
}

/** Words -H and --host give a meaning of their own: no host may be called so. */
const RESERVED_NAMES: Record<string, string> = { all: "'all' means every host", auto: "'auto' means placement (vm create --host auto)" };

/** What is wrong with a host or group name, or undefined. */
function nameProblem(name: string): string | undefined {
  if (Object.hasOwn(RESERVED_NAMES, name)) return RESERVED_NAMES[name];
  return HOST_NAME.test(name) ? undefined : 'use 1-63 letters, digits, ., _ or -, starting with a letter or digit';
}

export function validateHostName(name: string, what: 'host' | 'group' = 'host'): string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new UsageError(
      `invalid ${what} name ${JSON.stringify(name)}: ${problem}`,
      what === 'host' ? 'choose a name such as kvm1 or rack-a.kvm2' : 'choose a name such as web or rack-a',
    );
  }
  return name;
}

/** The transports libvirt's remote driver knows (https://libvirt.org/uri.html). */
const TRANSPORTS = new Set(['unix', 'ssh', 'libssh', 'libssh2', 'tcp', 'tls', 'ext']);

/** What is wrong with a host's URI, or undefined: a qemu (or test) driver, a known transport, a port in range, qemu's /system or /session. */
function hostUriProblem(uri: string): string | undefined {
  const u = URI_PATTERN.test(uri) ? parseLibvirtUri(uri) : undefined;
  if (!u) return 'it is not driver[+transport]://[user@][host][:port]/path[?params]';
  const driver = u.driver.toLowerCase();
  if (driver !== 'qemu' && driver !== 'test') return `the driver is ${JSON.stringify(u.driver)}, not qemu`;
  if (u.transport !== undefined && !TRANSPORTS.has(u.transport)) return `libvirt has no transport ${JSON.stringify(u.transport)} (it has ${[...TRANSPORTS].join(', ')})`;
  if (u.port !== undefined && (Number(u.port) < 1 || Number(u.port) > 65535)) return `port ${u.port} is not 1 to 65535`;
  if (driver === 'qemu' && u.path !== '/system' && u.path !== '/session') return `the path is ${JSON.stringify(u.path)}, where qemu has /system or /session`;
  if (u.path === '') return 'it names no path';
  return undefined;
}

export function validateHostUri(uri: string): string {
  const problem = hostUriProblem(uri);
  if (problem !== undefined) {
    throw new UsageError(`malformed libvirt URI ${JSON.stringify(uri)}: ${problem}`, 'use a URI such as qemu+ssh://root@kvm1/system or qemu+tcp://10.0.0.5/system');
  }
  return uri;
}

/** "key=value" -> [key, value]. */
export function parseLabel(text: string): [string, string] {
  const i = text.indexOf('=');
  const key = i > 0 ? text.slice(0, i) : '';
  const value = i > 0 ? text.slice(i + 1) : '';
  if (!LABEL_KEY.test(key) || /[\u0000-\u001f\u007f]/.test(value) || value.length > 253) {
    throw new UsageError(`invalid label ${JSON.stringify(text)}`, 'use KEY=VALUE, e.g. --label rack=a1 (key: letters, digits, . _ / -)');
  }
  return [key, value];
}

export function validateAddress(address: string): string {
  if (!isAddress(address)) {
    throw new UsageError(`invalid migration address ${JSON.stringify(address)}: not an IPv4 or IPv6 address or a host name`, 'use an IP address or a host name, e.g. 10.0.0.11, fd00::11 or kvm1.example.net');
  }
  return address;
}

/** The file must be a regular file (or absent): never a FIFO, device, directory or symlink. */
function checkRegular(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile()) {
      const what = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file';
      throw new RefusedError(`hosts inventory ${path} is ${what}; kvmctl reads and replaces only a regular file`, 'point KVMCTL_HOSTS at a regular file');
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * The file opened and checked, then `use` given its descriptor and identity; undefined when there is no file.
 * Synchronous: a few small reads, and -H starts no host before they are done.
 */
function withInventoryFile<T>(path: string, use: (fd: number, st: BigIntStats) => T): T | undefined {
  if (!checkRegular(path)) return undefined;
  // O_NOFOLLOW|O_NONBLOCK: a file swapped for a link or FIFO after the check is not followed or waited on.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new RefusedError(`hosts inventory ${path} is not a regular file`, 'point KVMCTL_HOSTS at a regular file');
    if (st.size > MAX_BYTES) throw new RefusedError(`hosts inventory ${path} is ${st.size} bytes, more than ${MAX_BYTES}`, 'check that KVMCTL_HOSTS names the inventory');
    return use(fd, st);
  } finally {
    closeSync(fd);
  }
}

function parseText(path: string, text: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const at = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new UsageError(`hosts inventory ${path} is not valid YAML${at}: ${e?.message.split('\n')[0] ?? ''}`, 'fix the file (docs/hosts.md describes it), or remove it to start again');
  }
  return doc;
}

async function readDocument(path: string): Promise<Document> {
  // No file yet: block style, as docs/hosts.md writes it (an empty `{}` parsed from text would keep flow style for every entry added).
  return withInventoryFile(path, (fd) => parseText(path, readFileSync(fd, 'utf8'))) ?? new Document({ hosts: {} });
}

function invalid(path: string, what: string): UsageError {
  return new UsageError(`hosts inventory ${path}: ${what}`, 'fix the file (docs/hosts.md describes its format)');
}

function dataOf(path: string, doc: Document): unknown {
  try {
    // No aliases: an inventory has no use for them, and nested ones expand without bound.
    return doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw invalid(path, e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e));
  }
}

function fromDocument(path: string, doc: Document): Inventory {
  return fromData(path, dataOf(path, doc));
}

/** The inventory in the data the YAML stands for, checked. */
function fromData(path: string, root: unknown): Inventory {
  const top = (root ?? {}) as Record<string, unknown>;
  if (typeof top !== 'object' || Array.isArray(top)) throw invalid(path, 'the top level must be a mapping with hosts: and groups:');
  for (const k of Object.keys(top)) if (k !== 'hosts' && k !== 'groups') throw invalid(path, `unknown key ${JSON.stringify(k)} at the top level`);
  const hostsRaw = (top.hosts ?? {}) as Record<string, unknown>;
  const groupsRaw = (top.groups ?? {}) as Record<string, unknown>;
  if (typeof hostsRaw !== 'object' || Array.isArray(hostsRaw)) throw invalid(path, 'hosts: must be a mapping of host names');
  if (typeof groupsRaw !== 'object' || Array.isArray(groupsRaw)) throw invalid(path, 'groups: must be a mapping of group names to lists of hosts');
  const groups: Record<string, string[]> = {};
  for (const [g, members] of Object.entries(groupsRaw)) {
    if (!HOST_NAME.test(g)) throw invalid(path, `invalid group name ${JSON.stringify(g)}`);
    if (!Array.isArray(members) || !members.every((m) => typeof m === 'string')) throw invalid(path, `group ${g} must be a list of host names`);
    for (const m of members) if (!(m in hostsRaw)) throw invalid(path, `group ${g} names host ${JSON.stringify(m)}, which is not under hosts:`);
    groups[g] = members as string[];
  }
  const hosts = Object.entries(hostsRaw).map(([name, v]): InventoryHost => {
    // A name of the wrong shape reads as it always did; a reserved one says what it means.
    if (nameProblem(name) !== undefined) throw invalid(path, `invalid host name ${JSON.stringify(name)}${Object.hasOwn(RESERVED_NAMES, name) ? `: ${RESERVED_NAMES[name]}` : ''}`);
    const h = (v ?? {}) as Record<string, unknown>;
    if (typeof h !== 'object' || Array.isArray(h)) throw invalid(path, `host ${name} must be a mapping with uri:`);
    for (const k of Object.keys(h)) if (!['uri', 'labels', 'migrationAddress'].includes(k)) throw invalid(path, `host ${name}: unknown key ${JSON.stringify(k)}`);
    if (typeof h.uri !== 'string') throw invalid(path, `host ${name}: uri: must be a libvirt URI`);
    const uriProblem = hostUriProblem(h.uri);
    if (uriProblem !== undefined) throw invalid(path, `host ${name}: uri: ${JSON.stringify(h.uri)} is not a libvirt URI of a host: ${uriProblem}`);
    const labels = (h.labels ?? {}) as Record<string, unknown>;
    if (typeof labels !== 'object' || Array.isArray(labels)) throw invalid(path, `host ${name}: labels: must be a mapping`);
    const out: Record<string, string> = {};
    for (const [k, lv] of Object.entries(labels)) {
      if (!LABEL_KEY.test(k) || !['string', 'number', 'boolean'].includes(typeof lv)) throw invalid(path, `host ${name}: label ${JSON.stringify(k)} must be KEY: VALUE`);
      out[k] = String(lv);
    }
    const addr = h.migrationAddress;
    if (addr !== undefined && (typeof addr !== 'string' || !isAddress(addr))) throw invalid(path, `host ${name}: migrationAddress: must be an address`);
    return { name, uri: h.uri, labels: out, migrationAddress: addr as string | undefined, groups: Object.keys(groups).filter((g) => groups[g]?.includes(name)) };
  });
  return { path, hosts, groups };
}

/**
 * The inventory at `path` (none there: no hosts). With `cacheDir` (kvmctl's state
 * directory), the parsed inventory is kept there and used again while the file is
 * unchanged (src/inventory/parsed-cache.ts): -H reads it on every run.
 */
export async function loadInventory(path: string, options: { cacheDir?: string } = {}): Promise<Inventory> {
  const { cacheDir } = options;
  if (cacheDir === undefined) return fromDocument(path, await readDocument(path));
  const inv = withInventoryFile(path, (fd, st) => {
    const cached = cachedInventoryData(cacheDir, path, st);
    if (cached !== undefined) {
      try {
        return fromData(path, cached);
      } catch {
        // A damaged entry is a miss: the file itself decides.
      }
    }
    const parsed = fromData(path, dataOf(path, parseText(path, readFileSync(fd, 'utf8'))));
    saveInventoryData(cacheDir, path, st, rawOf(parsed));
    return parsed;
  });
  return inv ?? fromDocument(path, new Document({ hosts: {} }));
}

/** The checked inventory as the data of an equivalent file (what the cache keeps; fromData of it gives the inventory back). */
function rawOf(inv: Inventory): unknown {
  const hosts: Record<string, unknown> = {};
  for (const h of inv.hosts) hosts[h.name] = { uri: h.uri, labels: h.labels, ...(h.migrationAddress !== undefined && { migrationAddress: h.migrationAddress }) };
  return { hosts, groups: inv.groups };
}

/** Applies an edit to the document and replaces the file atomically (temporary file in the same folder, then rename). */
export async function editInventory(path: string, edit: (doc: Document, inv: Inventory) => void): Promise<Inventory> {
  const doc = await readDocument(path);
  edit(doc, fromDocument(path, doc));
  const after = fromDocument(path, doc);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.hosts.yaml.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(doc.toString());
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  // Checked again just before the rename: a regular file (or none) is replaced, nothing else.
  try {
    checkRegular(path);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return after;
}

/** Makes sure `key` holds a mapping (flow style stays as the user wrote it). */
export function ensureMap(doc: Document, key: string): void {
  const node = doc.get(key, true);
  if (!isMap(node)) doc.set(key, doc.createNode({}));
}

export function ensureSeq(doc: Document, path: string[]): void {
  const node = doc.getIn(path, true);
  if (!isSeq(node)) doc.setIn(path, doc.createNode([]));
}

/** Hosts named by -H arguments: NAME, @group or all. */
export function selectHosts(inv: Inventory, selectors: string[]): InventoryHost[] {
  const picked = new Map<string, InventoryHost>();
  for (const s of selectors) {
    if (s === 'all') for (const h of inv.hosts) picked.set(h.name, h);
    else if (s.startsWith('@')) {
      const members = inv.groups[s.slice(1)];
      if (!members) throw new NotFoundError(`no group ${JSON.stringify(s.slice(1))} in ${inv.path}`, `groups defined: ${Object.keys(inv.groups).join(', ') || 'none'}; add a host to one with: kvmctl host add NAME --uri URI --group GROUP`);
      for (const m of members) {
        const h = inv.hosts.find((x) => x.name === m);
        if (h) picked.set(h.name, h);
      }
    } else {
      const h = inv.hosts.find((x) => x.name === s);
      if (!h) throw new NotFoundError(`no host ${JSON.stringify(s)} in ${inv.path}`, "list them with: kvmctl host list; add one with: kvmctl host add NAME --uri URI");
      picked.set(h.name, h);
    }
  }
  return [...picked.values()];
}
