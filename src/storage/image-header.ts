/**
 * Reads an image file's first bytes without qemu-img: which format it is, and
 * whether its header points at other files. kvmctl decides this itself before
 * any tool opens the file, so a hostile image (a qcow2 whose backing file is
 * /etc/shadow, a vmdk whose extent is /dev/sda) is refused before anything
 * follows its references.
 */

/** How many leading bytes the checks need: header, header extensions and an embedded vmdk descriptor. */
export const HEADER_BYTES = 64 * 1024;

export interface HeaderFacts {
  /** qemu's name for the format, or an unsupported one kvmctl only names in its refusal. */
  format: string;
  /** References to other files found in the header, described for people. */
  references: string[];
}

const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"
const QCOW2_EXT_END = 0;
const QCOW2_EXT_DATA_FILE = 0x44415441;
const QCOW2_EXT_BACKING_FORMAT = 0xe2792aca;
const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;

export function sniffImage(buf: Buffer): HeaderFacts {
  const ascii = (start: number, len: number) => buf.subarray(start, start + len).toString('latin1');
  if (buf.length >= 4 && buf.readUInt32BE(0) === QCOW_MAGIC) {
    const version = buf.length >= 8 ? buf.readUInt32BE(4) : 0;
    return version >= 2 ? { format: 'qcow2', references: qcow2References(buf) } : { format: 'qcow', references: [] };
  }
  if (ascii(0, 4) === 'KDMV') return { format: 'vmdk', references: vmdkSparseReferences(buf) };
  if (ascii(0, 4) === 'COWD') return { format: 'vmdk', references: ['an ESX sparse vmdk (its data may live in other files)'] };
  if (ascii(0, 21) === '# Disk DescriptorFile') return { format: 'vmdk', references: vmdkDescriptorReferences(ascii(0, buf.length)) };
  if (ascii(0, 8) === 'vhdxfile') return { format: 'vhdx', references: [] };
  if (ascii(0, 8) === 'conectix') return { format: 'vpc', references: [] };
  if (buf.length >= 68 && buf.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi', references: [] };
  if (ascii(0, 4) === 'QED\0') return { format: 'qed', references: [] };
  if (ascii(0, 6) === 'LUKS\xba\xbe') return { format: 'luks', references: [] };
  return { format: 'raw', references: [] };
}

function qcow2References(buf: Buffer): string[] {
  const refs: string[] = [];
  if (buf.length < 72) return ['a truncated qcow2 header'];
  const version = buf.readUInt32BE(4);
  const backingOffset = buf.readBigUInt64BE(8);
  const backingSize = buf.readUInt32BE(16);
  if (backingOffset !== 0n) {
    const start = Number(backingOffset);
    const name = start + backingSize <= buf.length ? buf.subarray(start, start + backingSize).toString('utf8') : undefined;
    refs.push(name !== undefined ? `backing file ${name}` : 'a backing file');
  }
  if (version >= 3 && buf.length >= 104) {
    const incompatible = buf.readBigUInt64BE(72);
    if (incompatible & QCOW2_INCOMPAT_DATA_FILE) {
      const name = qcow2Extension(buf, buf.readUInt32BE(100), QCOW2_EXT_DATA_FILE);
      refs.push(name !== undefined ? `external data file ${name}` : 'an external data file');
    }
  }
  return refs;
}

/** The format a qcow2 header declares for its backing file (the backing-format extension), if it declares one. */
export function qcow2BackingFormat(buf: Buffer): string | undefined {
  if (buf.length < 72 || buf.readUInt32BE(0) !== QCOW_MAGIC) return undefined;
  const version = buf.readUInt32BE(4);
  const extStart = version === 2 ? 72 : buf.length >= 104 ? buf.readUInt32BE(100) : undefined;
  return extStart === undefined ? undefined : qcow2Extension(buf, extStart, QCOW2_EXT_BACKING_FORMAT)?.replace(/\0+$/, '');
}

/** The payload of one header extension, as text. */
function qcow2Extension(buf: Buffer, start: number, wanted: number): string | undefined {
  let off = start;
  while (off + 8 <= buf.length) {
    const type = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (type === QCOW2_EXT_END) return undefined;
    if (type === wanted) return buf.subarray(off + 8, Math.min(off + 8 + len, buf.length)).toString('utf8');
    off += 8 + Math.ceil(len / 8) * 8;
  }
  return undefined;
}

function vmdkSparseReferences(buf: Buffer): string[] {
  if (buf.length < 44) return ['a truncated vmdk header'];
  const descOffset = Number(buf.readBigUInt64LE(28)) * 512;
  const descSize = Number(buf.readBigUInt64LE(36)) * 512;
  if (descOffset === 0 || descSize === 0) return [];
  if (descOffset + descSize > buf.length) return ['a vmdk descriptor kvmctl could not read'];
  const text = buf.subarray(descOffset, descOffset + descSize).toString('latin1').replace(/\0.*$/s, '');
  const createType = /^\s*createType\s*=\s*"([^"]*)"/m.exec(text)?.[1] ?? '';
  // A monolithic sparse or stream-optimized vmdk is its own single extent.
  const selfContained = /^(monolithicSparse|streamOptimized)$/i.test(createType);
  return [...vmdkParent(text), ...(selfContained ? [] : vmdkExtents(text))];
}

/** A descriptor file holds no data: every extent line names another file. */
function vmdkDescriptorReferences(text: string): string[] {
  const refs = [...vmdkParent(text), ...vmdkExtents(text)];
  return refs.length > 0 ? refs : ['a vmdk descriptor file (its data lives in other files)'];
}

function vmdkExtents(text: string): string[] {
  return [...text.matchAll(/^\s*(?:RW|RDONLY|NOACCESS)\s+\d+\s+\w+\s+"([^"]*)"/gm)].map((m) => `vmdk extent ${m[1]}`);
}

function vmdkParent(text: string): string[] {
  const parent = /^\s*parentFileNameHint\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  return parent ? [`backing file ${parent}`] : [];
}
