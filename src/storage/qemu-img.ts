/**
 * qemu-img as a value object: argv builders and `info --output=json` parsing.
 * Every call names the image format (-f, -F, or --image-opts driver=): without
 * it qemu-img probes, and a raw disk whose guest wrote a qcow2 header could make
 * it read a host file through a backing reference.
 */
import { mutatingCommand, readCommand, type Command } from '../exec/command.js';


/**
 * `--image-opts` string for a file: qemu's option parser splits on ',' so a
 * comma in the path is doubled.
 */
export function imageOpts(format: string, path: string): string {
  return `driver=${format},file.filename=${path.replace(/,/g, ',,')}`;
}

/**
 * What qemu-img may spend reading an image nobody vouched for (the source of
 * an import): a hostile header can ask for huge tables (memory), endless
 * work (CPU), or name a FIFO or a hung mount (time). Far above what a real
 * image needs (qemu-img info of a 2 PiB qcow2 peaks at about 40 MiB).
 */
export const UNTRUSTED_INFO_LIMITS = { addressSpaceBytes: 1024 ** 3, cpuSeconds: 10, timeoutMs: 20_000 } as const;

export const qemuImg = {
  /** info under prlimit (address space, CPU) and a wall-clock timeout: for untrusted files. */
  untrustedInfo(path: string, format: string): Command {
    const l = UNTRUSTED_INFO_LIMITS;
    return readCommand('prlimit', [`--as=${l.addressSpaceBytes}`, `--cpu=${l.cpuSeconds}`, '--', 'qemu-img', 'info', '-U', '--output=json', '-f', format, path], { timeoutMs: l.timeoutMs });
  },
  /** -U: reading an image a running VM holds open is safe and must not fail on its lock. */
  info(path: string, format: string, backingChain = false): Command {
    return readCommand('qemu-img', ['info', '-U', '--output=json', '-f', format, ...(backingChain ? ['--backing-chain'] : []), path]);
  },
  /** Writes dest from src; the caller picks a fresh dest name (convert truncates an existing file). */
  convert(src: string, srcFormat: string, dest: string, destFormat: string): Command {
    return mutatingCommand('qemu-img', ['convert', '-f', srcFormat, '-O', destFormat, src, dest]);
  },
  /** Exit 0: same guest-visible content, 1: different, 2: error. */
  compare(a: string, aFormat: string, b: string, bFormat: string): Command {
    return readCommand('qemu-img', ['compare', '-U', '-f', aFormat, '-F', bFormat, a, b]);
  },
  /** qemu-img snapshot has no -f: the driver is named through --image-opts. */
  snapshotCreate: (path: string, name: string) => mutatingCommand('qemu-img', ['snapshot', '--image-opts', '-c', name, imageOpts('qcow2', path)]),
  /** -a looks up an id before a name: kvmctl passes the id, so a name that looks like an id cannot pick another snapshot. */
  snapshotApply: (path: string, id: string) => mutatingCommand('qemu-img', ['snapshot', '--image-opts', '-a', id, imageOpts('qcow2', path)]),
  /** -d looks up names only. */
  snapshotDelete: (path: string, name: string) => mutatingCommand('qemu-img', ['snapshot', '--image-opts', '-d', name, imageOpts('qcow2', path)]),
};

export interface ImageSnapshot {
  /** qemu's numeric id. */
  id: string;
  name: string;
  /** ISO 8601. */
  date: string;
  vmStateBytes: number;
}

export interface ImageInfo {
  filename: string;
  format: string;
  virtualSizeBytes: number;
  /** Bytes allocated on the host. */
  actualSizeBytes?: number;
  clusterSizeBytes?: number;
  backingFilename?: string;
  fullBackingFilename?: string;
  backingFormat?: string;
  /** qcow2 external data file. */
  dataFile?: string;
  /** vmdk extents (files holding the data). */
  extents: string[];
  snapshots: ImageSnapshot[];
  dirty: boolean;
  /** qcow2 compat level (0.10 or 1.1). */
  compat?: string;
}

interface RawInfo {
  filename?: string;
  format?: string;
  'virtual-size'?: number;
  'actual-size'?: number;
  'cluster-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'backing-filename-format'?: string;
  'dirty-flag'?: boolean;
  snapshots?: Array<{ id?: string; name?: string; 'date-sec'?: number; 'date-nsec'?: number; 'vm-state-size'?: number }>;
  'format-specific'?: { type?: string; data?: { compat?: string; 'data-file'?: string; extents?: Array<{ filename?: string }> } };
}

function fromRaw(r: RawInfo): ImageInfo {
  const data = r['format-specific']?.data;
  return {
    filename: r.filename ?? '',
    format: r.format ?? '',
    virtualSizeBytes: r['virtual-size'] ?? 0,
    actualSizeBytes: r['actual-size'],
    clusterSizeBytes: r['cluster-size'],
    backingFilename: r['backing-filename'],
    fullBackingFilename: r['full-backing-filename'],
    backingFormat: r['backing-filename-format'],
    dataFile: data?.['data-file'],
    extents: (data?.extents ?? []).map((e) => e.filename ?? '').filter((f) => f !== ''),
    snapshots: (r.snapshots ?? []).map((s) => ({
      id: s.id ?? '',
      name: s.name ?? '',
      date: new Date((s['date-sec'] ?? 0) * 1000 + Math.floor((s['date-nsec'] ?? 0) / 1e6)).toISOString(),
      vmStateBytes: s['vm-state-size'] ?? 0,
    })),
    dirty: r['dirty-flag'] === true,
    compat: data?.compat,
  };
}

/** `qemu-img info --output=json`: one object, or an array with --backing-chain (top image first). */
export function parseImageInfo(json: string): ImageInfo[] {
  const parsed = JSON.parse(json) as RawInfo | RawInfo[];
  return (Array.isArray(parsed) ? parsed : [parsed]).map(fromRaw);
}

/**
 * Files other than the image itself that reading it would open: backing file,
 * external data file, `json:` pseudo-files, vmdk extents elsewhere.
 */
export function externalReferences(info: ImageInfo, self: string): string[] {
  const refs: string[] = [];
  if (info.filename.startsWith('json:')) refs.push(`a json: file name (${info.filename})`);
  if (info.backingFilename !== undefined) refs.push(`backing file ${info.backingFilename}`);
  if (info.dataFile !== undefined) refs.push(`external data file ${info.dataFile}`);
  for (const extent of info.extents) {
    if (extent !== self && extent !== info.filename) refs.push(`vmdk extent ${extent}`);
  }
  return refs;
}
