/** Human sizes: parsing user input strictly, and formatting bytes for tables. */
import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** Largest size accepted: 1 EiB is far beyond any disk and well within exact doubles' integer range for our units. */
export const MAX_SIZE_BYTES = 2 ** 60;

/**
 * Parses "512M", "20G", "1.5T", "20GiB", "20GB" (binary units, as qemu-img and
 * libvirt use them) or plain bytes. Anything else, zero, and overflow are usage errors.
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)(i?b)?$/i.exec(text);
  if (!m) {
    if (/\s/.test(text)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: it contains white space`, 'write the number and the unit together, without spaces, e.g. 10G');
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}`, 'use a number with an optional unit: 512M, 20G, 1.5T, 20GiB or bytes');
  }
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '' && m[3] !== undefined && m[3].toLowerCase() !== 'b') {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}`, 'use a number with an optional unit: 512M, 20G, 1.5T, 20GiB or bytes');
  }
  if (unit === '' && (m[1] ?? '').includes('.')) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: a byte count is a whole number`, 'give whole bytes, or a unit: 1.5G');
  }
  const bytes = Math.round(Number(m[1]) * (UNITS[unit] ?? 1));
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: must be greater than zero (sizes go from 1 byte to 1 EiB)`, 'give a positive size such as 20G');
  }
  if (bytes > MAX_SIZE_BYTES) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: larger than 1 EiB (sizes go from 1 byte to 1 EiB)`, 'give a realistic size such as 20G');
  }
  return bytes;
}

/** The unit attribute of libvirt XML sizes (<memory unit='KiB'>, <capacity unit='bytes'>): letters and KiB… are binary, KB… decimal. */
const LIBVIRT_UNITS: Record<string, number> = {
  b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4, tb: 1e12,
};

/** Bytes per one of a libvirt XML unit (any case); undefined for a unit kvmctl does not know. */
export function libvirtUnitFactor(unit: string): number | undefined {
  return LIBVIRT_UNITS[unit.toLowerCase()];
}

/** 21474836480 -> "20.0 GiB" */
export function formatBytes(bytes: number | null | undefined): string | undefined {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return undefined;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
