/**
 * What `vol-dumpxml` says about a volume of a directory pool on this machine
 * (format, capacity, allocation, backing file), read from the file itself.
 * libvirt answers each vol-dumpxml by looking the pool and the volume up by
 * name and re-reading the file's header, about 1.3 ms a volume even in one
 * virsh process; here it is an lstat, an open and one read. Only cases whose
 * answer is certainly libvirt's own are decided here (a regular raw file, or
 * a qcow2 v2/v3 whose backing file, if any, is a plain path with its format
 * in the header); every other volume is left to libvirt's XML. The rules
 * follow libvirt's probe (src/storage_file/storage_file_probe.c).
 */
import { posix } from 'node:path';
import type { FileHead, LocalFs } from '../local-fs.js';
import type { PoolRecord, VolumeRecord } from '../libvirt/storage.js';

/** libvirt reads this much of a file to probe it (VIR_STORAGE_MAX_HEADER). */
export const LIBVIRT_HEADER_BYTES = 0x8200;

const QCOW2_EXT_BACKING_FORMAT = 0xe2792aca;
const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;

/** Magics of libvirt's other formats (offset, bytes): a file with one is left to libvirt. */
const OTHER_MAGICS: Array<[number, string]> = [
  [32769, 'CD001'], // iso
  [0, 'conectix'], // vpc
  [64, '\x7f\x10\xda\xbe'], // vdi
  [0, 'WithouFreSpacExt'], // ploop
  [0, 'OOOM'], // cow
  [0, 'QED'], // qed
  [0, 'KDMV'], // vmdk
  [0, 'LUKS\xba\xbe'], // raw with LUKS: libvirt subtracts the payload from the capacity
];

/** Backing formats kvmctl reports itself; any other is left to libvirt. */
const PLAIN_BACKING_FORMATS = new Set(['raw', 'qcow2']);

function hasMagic(buf: Buffer, offset: number, magic: string): boolean {
  return buf.length >= offset + magic.length && buf.subarray(offset, offset + magic.length).toString('latin1') === magic;
}

type Facts = Omit<VolumeRecord, 'pool' | 'name'>;

/** The volume's facts as libvirt would report them, or undefined when only libvirt can say. Pure. */
export function volumeFromHead(path: string, head: FileHead): Facts | undefined {
  const buf = head.header;
  const base = { path, key: path, type: 'file', allocationBytes: head.allocatedBytes };
  if (OTHER_MAGICS.some(([offset, magic]) => hasMagic(buf, offset, magic))) return undefined;
  if (!hasMagic(buf, 0, 'QFI')) return { ...base, format: 'raw', capacityBytes: head.sizeBytes };
  // libvirt matches the three bytes "QFI", then the version.
  if (buf.length < 104 || buf[3] !== 0xfb) return undefined;
  const version = buf.readUInt32BE(4);
  if (version !== 2 && version !== 3) return undefined;
  // Encrypted (crypt_method at 32), or data kept in another file: libvirt's XML says more.
  if (buf.readUInt32BE(32) !== 0) return undefined;
  if (version === 3 && (buf.readBigUInt64BE(72) & QCOW2_INCOMPAT_DATA_FILE) !== 0n) return undefined;
  const capacity = buf.readBigUInt64BE(24);
  if (capacity > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const facts = { ...base, format: 'qcow2', capacityBytes: Number(capacity) };
  const backingOffset = buf.readBigUInt64BE(8);
  const backingSize = buf.readUInt32BE(16);
  if (backingOffset === 0n || backingSize === 0) return facts;
  const backing = qcow2Backing(buf, version, Number(backingOffset), backingSize, path);
  return backing && { ...facts, backingFile: backing.path, backingFormat: backing.format };
}

/**
 * The backing file's path and format, when the header names both plainly: a
 * format extension first among the extensions (where qemu-img writes it, and
 * where libvirt's and qemu's ways of walking them agree), and a name that is
 * an absolute path or a file name in the same directory.
 */
function qcow2Backing(buf: Buffer, version: number, offset: number, size: number, path: string): { path: string; format: string } | undefined {
  if (size > 1023 || offset + size > buf.length) return undefined;
  const name = buf.subarray(offset, offset + size).toString('utf8');
  if (/[\u0000-\u001f\u007f\ufffd]/.test(name)) return undefined;
  const extStart = version === 2 ? 72 : buf.readUInt32BE(100);
  if (extStart + 8 > offset || extStart + 8 > buf.length) return undefined;
  if (buf.readUInt32BE(extStart) !== QCOW2_EXT_BACKING_FORMAT) return undefined;
  const len = buf.readUInt32BE(extStart + 4);
  if (extStart + 8 + len > buf.length) return undefined;
  const format = buf.subarray(extStart + 8, extStart + 8 + len).toString('latin1');
  if (!PLAIN_BACKING_FORMATS.has(format)) return undefined;
  if (name.startsWith('/')) return { path: name, format };
  // libvirt joins a relative name to the overlay's directory; anything with a
  // separator or a protocol-like colon is left to it.
  if (name.includes('/') || name.includes(':') || name === '.' || name === '..') return undefined;
  return { path: `${posix.dirname(path)}/${name}`, format };
}

/**
 * Every volume of the given pools that can be read locally: directory pools
 * with a target path, whose volume is a regular file named after it in that
 * directory. The rest is for libvirt's XML.
 */
export async function readLocalVolumes(fs: LocalFs, pools: PoolRecord[]): Promise<VolumeRecord[]> {
  const todo = pools.flatMap((p) => {
    const dir = p.targetPath?.replace(/\/+$/, '');
    if (dir === undefined || dir === '') return [];
    return (p.volumes ?? []).filter((v) => !v.name.includes('/') && v.path === `${dir}/${v.name}`).map((v) => ({ pool: p.name, ...v }));
  });
  // One buffer for every head, each parsed before the next is read: 5000 heads of 33 KB
  // each, allocated one by one, were 50 MiB of peak memory before the collector freed them.
  const scratch = Buffer.allocUnsafe(LIBVIRT_HEADER_BYTES);
  const found: VolumeRecord[] = [];
  for (const v of todo) {
    const head = await fs.readFileHead(v.path, LIBVIRT_HEADER_BYTES, scratch);
    const facts = head && volumeFromHead(v.path, head);
    if (facts) found.push({ pool: v.pool, name: v.name, ...facts });
  }
  return found;
}
