/**
 * Which VM disk uses which file, for the USED BY column of volume listings,
 * without every VM's XML. One `virsh domstats --state --block` names every
 * VM's state and its disks' targets and paths; libvirt answers it from its
 * memory (and the image headers), where a `dumpxml` of each VM costs two round
 * trips to libvirtd and a full XML parse here: 1 s and ~150 MiB at 5000 VMs.
 *
 * domstats does not say what kind of disk a path belongs to, so it is trusted
 * only where its answer cannot differ from the XML's (see fromStats); every
 * other VM whose disks might touch the listed volumes is read with dumpxml.
 * Nor does it say which disks are readonly: when JSON wants the flags, the VMs
 * domstats answered for are read with dumpxml too, and only their disks'
 * lines are looked at (readonlyTargetsOf), where the whole XML of 5000 VMs is
 * 8 MB to parse. Those dumpxml run in one virsh process however many there
 * are (a batch longer than one argument is fed to it on stdin).
 */
import type { Runner } from '../exec/runner.js';
import { diskPath, parseDomainXml } from './domain-xml.js';
import type { DomainRecord } from './domains.js';
import { numberStat, parseDomstats, stateName, type DomainStats } from './domstats.js';
import { domainCalls } from './domain-commands.js';
import { Virsh } from './virsh-client.js';
import { diskUsesFirstBatch } from './list-calls.js';

/** Files whose headers are read at once. */
const PARALLEL_READS = 128;

/** One disk of one VM, as far as USED BY needs it. */
export interface DiskUse {
  vm: string;
  state: string;
  /** The guest device (vda, sdb…). */
  target: string;
  /** From the XML; unknown (undefined) for disks known from domstats alone. */
  readonly?: boolean;
  /** The file or block device (diskPath of the XML's disk). */
  path?: string;
  /** A `<disk type='volume'>`'s pool and volume. */
  pool?: string;
  volume?: string;
}

/** The disks of VMs (read with dumpxml) as DiskUses, in VM then disk order. */
export function diskUsesOf(domains: Array<{ name: string; state: string; definition: { disks: Parameters<typeof diskPath>[0][] } }>): DiskUse[] {
  return domains.flatMap((d) =>
    d.definition.disks.map((disk) => ({
      vm: d.name,
      state: d.state,
      target: disk.target.dev,
      readonly: disk.readonly === true,
      path: diskPath(disk),
      pool: disk.source?.pool,
      volume: disk.source?.volume,
    })),
  );
}

/** What the caller lists: volumes by path, and whether a dir volume (a subdirectory) is at that path. */
export interface ListedPaths {
  has(path: string): boolean;
  isDirectory(path: string): boolean;
}

/**
 * The disk uses domstats alone decides for one VM, or undefined when its XML
 * is needed. domstats is trusted only for a shut-off VM (a running VM reports
 * a `<disk type='volume'>` by its translated path) whose every disk has a
 * path, and only where that path is a listed volume that libvirt opened as
 * local storage (`physical` is reported: not a network or dir disk, whose
 * names domstats reports as paths too) and is no subdirectory volume. Each
 * target is listed once (no chain written into the XML), so a target names
 * one disk: the key for its readonly flag (readonlyTargetsOf).
 */
export function fromStats(s: DomainStats, listed: ListedPaths): DiskUse[] | undefined {
  const state = stateName(s.stats);
  const count = numberStat(s.stats, 'block.count');
  if (state !== 'shutoff' || count === undefined) return undefined;
  const uses: DiskUse[] = [];
  const targets = new Set<string>();
  for (let i = 0; i < count; i++) {
    const target = s.stats[`block.${i}.name`];
    const path = s.stats[`block.${i}.path`];
    // No path: a <disk type='volume'> of a VM that is not running, an empty CD-ROM, a network disk.
    if (target === undefined || path === undefined) return undefined;
    // A target seen before is a layer of a backing chain written into the VM's XML (--backing lists it).
    if (targets.has(target)) return undefined;
    targets.add(target);
    if (!listed.has(path)) continue;
    if (!path.startsWith('/') || listed.isDirectory(path) || s.stats[`block.${i}.physical`] === undefined) return undefined;
    uses.push({ vm: s.name, state, target, path });
  }
  return uses;
}

export interface DiskUseOptions {
  /** The users' readonly flags are wanted (JSON): every VM using a listed volume is read. */
  readonly: boolean;
  /**
   * Whether a file's header names a backing file: a VM with such a disk is
   * read too, so that its whole chain (backingChainUses) is known.
   */
  layered?: (path: string) => Promise<boolean>;
}

export interface DiskUses {
  /** Every disk that may use a listed volume, in VM then disk order. */
  uses: DiskUse[];
  /**
   * With `layered`, the VMs that were read with dumpxml (for their chains);
   * otherwise empty: at 5000 VMs their definitions would be most of the memory.
   */
  read: DomainRecord[];
}

/**
 * Every VM's disk uses that may concern the listed volumes: two virsh
 * processes at most (domstats with the autostart list, then one of dumpxml of
 * only the VMs domstats cannot answer for, and with `readonly` of those it
 * answered for that use a listed volume), however many VMs exist.
 */
export async function loadDiskUses(runner: Runner, uri: string, listed: Promise<ListedPaths>, options: DiskUseOptions): Promise<DiskUses> {
  const virsh = new Virsh(runner, uri);
  const first = virsh.batchWithStderr(diskUsesFirstBatch());
  // domstats runs while the caller is still reading its volumes.
  const [{ out, stderr }, paths] = await Promise.all([first, listed]);
  const stats = parseDomstats(out.stats);
  if (stats.length === 0 && stderr.trim()) throw new Error(`could not list domains: ${stderr.trim()}`);
  const autostart = new Set(out.autostart.split('\n').filter((l) => l !== ''));
  const known = stats.map((s) => fromStats(s, paths));
  if (options.layered) await dropLayered(stats, known, options.layered);
  const asked = stats.filter((_, i) => known[i] === undefined);
  // JSON: the VMs domstats answered for that use a listed volume are asked for their readonly disks only.
  const flagged = options.readonly ? stats.flatMap((_, i) => ((known[i]?.length ?? 0) > 0 ? [i] : [])) : [];
  const xmlUses = new Map<string, DiskUse[]>();
  const read: DomainRecord[] = [];
  if (asked.length + flagged.length > 0) {
    // One process however many VMs: a batch longer than one argument is fed to one virsh on stdin.
    const batch = await virsh.batch({ xml: asked.map((s) => domainCalls.dumpxml(s.name)), flags: flagged.map((i) => domainCalls.dumpxml(stats[i]!.name)) }, { oneProcess: true });
    const texts = asked.map((s, i) => ({ s, text: batch.xml[i] ?? '' }));
    flagged.forEach((i, j) => {
      const text = batch.flags[j] ?? '';
      const targets = readonlyTargetsOf(text, statTargets(stats[i]!));
      if (targets) {
        known[i] = known[i]!.map((use) => ({ ...use, readonly: targets.has(use.target) }));
      } else {
        known[i] = undefined;
        texts.push({ s: stats[i]!, text });
      }
    });
    for (const { s, text } of texts) {
      // A VM undefined since domstats has an empty section.
      if (!text.trim()) continue;
      const domain = { name: s.name, state: stateName(s.stats), autostart: autostart.has(s.name), definition: await parseDomainXml(text) };
      xmlUses.set(s.name, diskUsesOf([domain]));
      if (options.layered) read.push(domain);
    }
  }
  return { uses: stats.flatMap((s, i) => known[i] ?? xmlUses.get(s.name) ?? []), read };
}

const XML_ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };

/** An attribute value as libvirt escapes it (the five entities and character references) back to text. */
function attributeText(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return XML_ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Every disk target domstats listed for a VM. */
function statTargets(s: DomainStats): Set<string> {
  const count = numberStat(s.stats, 'block.count') ?? 0;
  return new Set(Array.from({ length: count }, (_, b) => s.stats[`block.${b}.name`] ?? ''));
}

/**
 * The targets of the readonly disks (`/domain/devices/disk[readonly]/target/@dev`)
 * of a VM's XML as libvirt writes it, two spaces an indent level: each
 * `<disk …>` of `<devices>` at four, its own `<readonly/>` and
 * `<target dev='…'` at six, without parsing the whole document (8 MB at
 * 5000 VMs). undefined unless the disks found are exactly those domstats
 * listed (`all`): the XML is then parsed whole.
 */
export function readonlyTargetsOf(xml: string, all: ReadonlySet<string>): Set<string> | undefined {
  const open = xml.indexOf('\n  <devices>\n');
  const close = xml.indexOf('\n  </devices>\n');
  if (!xml.startsWith('<domain ') || open < 0 || close < open || xml.indexOf('\n  <devices>\n', open + 1) >= 0) return undefined;
  const found = new Set<string>();
  const readonly = new Set<string>();
  for (const m of xml.matchAll(DISK_BLOCK)) {
    if (m.index < open || m.index > close) return undefined;
    const body = m[1] ?? '';
    const targets = [...body.matchAll(DISK_TARGET)];
    if (targets.length !== 1) return undefined;
    const target = attributeText(targets[0]![1] ?? '');
    if (found.has(target)) return undefined;
    found.add(target);
    if (DISK_READONLY.test(body)) readonly.add(target);
  }
  if (found.size !== all.size || [...all].some((t) => !found.has(t))) return undefined;
  return readonly;
}

/** A `<disk …>` of `<devices>` (four spaces in) and its lines up to its `</disk>`. */
const DISK_BLOCK = /^ {4}<disk [^\n]*[^/\n]>\n((?:(?! {4}<\/disk>\n)[^\n]*\n)*?) {4}<\/disk>$/gm;
/** The disk's own `<target …>` (six spaces in), its dev attribute. */
const DISK_TARGET = /^ {6}<target [^\n]*?\bdev='([^']*)'/gm;
const DISK_READONLY = /^ {6}<readonly\/>$/m;

/** Marks for reading (undefined) every VM answered from domstats one of whose disk files names a backing file. */
async function dropLayered(stats: DomainStats[], known: Array<DiskUse[] | undefined>, layered: (path: string) => Promise<boolean>): Promise<void> {
  const todo = stats.flatMap((s, i) => {
    if (known[i] === undefined) return [];
    const count = numberStat(s.stats, 'block.count') ?? 0;
    return Array.from({ length: count }, (_, b) => ({ i, path: s.stats[`block.${b}.path`] ?? '' }));
  });
  for (let k = 0; k < todo.length; k += PARALLEL_READS) {
    const part = todo.slice(k, k + PARALLEL_READS);
    const answers = await Promise.all(part.map((t) => layered(t.path)));
    part.forEach((t, j) => {
      if (answers[j]) known[t.i] = undefined;
    });
  }
}
