/**
 * The catalog of cloud images kvmctl can pull by name: built-in entries, each
 * with its URL and where its checksum comes from, overridden and extended by
 * images.json in kvmctl's config directory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseChecksum, type Digest } from './checksum.js';

export interface CatalogEntry {
  name: string;
  description: string;
  url: string;
  /** A fixed digest (for images that never change at their URL). */
  checksum?: Digest;
  /** The distribution's SUMS file listing the image. */
  sums?: string;
  /** A detached OpenPGP signature of the SUMS file, checked with gpgv... */
  sumsSignature?: string;
  /** ...against this keyring, when it is installed. */
  keyring?: string;
  /** Where the entry comes from: built in, or the config file's path. */
  origin: string;
}

const BUILT_IN: Array<Omit<CatalogEntry, 'origin'>> = [
  {
    name: 'debian-12',
    description: 'Debian 12 (bookworm) genericcloud, amd64',
    url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
    sums: 'https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS',
  },
  {
    name: 'debian-13',
    description: 'Debian 13 (trixie) genericcloud, amd64',
    url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
    sums: 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS',
  },
  {
    name: 'ubuntu-24.04',
    description: 'Ubuntu 24.04 LTS (noble) server cloud image, amd64',
    url: 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img',
    sums: 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS',
    sumsSignature: 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS.gpg',
    keyring: '/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg',
  },
  {
    name: 'ubuntu-22.04',
    description: 'Ubuntu 22.04 LTS (jammy) server cloud image, amd64',
    url: 'https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img',
    sums: 'https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS',
    sumsSignature: 'https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS.gpg',
    keyring: '/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg',
  },
  {
    name: 'fedora-41',
    description: 'Fedora Cloud Base Generic 41, x86_64',
    url: 'https://download.fedoraproject.org/pub/fedora/linux/releases/41/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2',
    sums: 'https://download.fedoraproject.org/pub/fedora/linux/releases/41/Cloud/x86_64/images/Fedora-Cloud-41-1.4-x86_64-CHECKSUM',
  },
  {
    name: 'almalinux-9',
    description: 'AlmaLinux 9 GenericCloud, x86_64',
    url: 'https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2',
    sums: 'https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/CHECKSUM',
  },
  {
    name: 'rocky-9',
    description: 'Rocky Linux 9 GenericCloud Base, x86_64',
    url: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2',
    sums: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/CHECKSUM',
  },
  {
    name: 'alpine-3.20',
    description: 'Alpine Linux 3.20 NoCloud (BIOS, cloud-init), x86_64',
    url: 'https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/cloud/nocloud_alpine-3.20.3-x86_64-bios-cloudinit-r0.qcow2',
    sums: 'https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/cloud/nocloud_alpine-3.20.3-x86_64-bios-cloudinit-r0.qcow2.sha512',
  },
  {
    name: 'cirros-0.6',
    description: 'CirrOS 0.6.2, x86_64 (a tiny test image)',
    url: 'https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img',
    sums: 'https://download.cirros-cloud.net/0.6.2/SHA256SUMS',
  },
];

/** kvmctl's config directory: $KVMCTL_CONFIG_DIR, else /etc/kvmctl for root, else ~/.config/kvmctl. */
export function configDir(env: Record<string, string | undefined>): string {
  if (env.KVMCTL_CONFIG_DIR) return env.KVMCTL_CONFIG_DIR;
  return process.getuid?.() === 0 ? '/etc/kvmctl' : join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'kvmctl');
}

export const CATALOG_FILE = 'images.json';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** A download URL kvmctl accepts: http or https, nothing else (no file:, ftp:, data:). */
export function parseDownloadUrl(what: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not a URL`, 'give an http:// or https:// URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${what}: ${JSON.stringify(text)} uses ${url.protocol}, which kvmctl does not download from`, 'give an http:// or https:// URL; import a local file with kvmctl volume import FILE --pool POOL');
  }
  if (url.username || url.password) throw new UsageError(`${what}: ${JSON.stringify(text)} carries a user name or password`, 'give a URL without credentials');
  return url;
}

function entryFromFile(file: string, raw: unknown, i: number): CatalogEntry {
  const where = `${file}: images[${i}]`;
  const o = (raw ?? {}) as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new UsageError(`${where}.${key} must be a string`, `fix ${file}`);
    return v;
  };
  const name = str('name');
  if (name === undefined || !NAME.test(name)) throw new UsageError(`${where}.name ${JSON.stringify(name)} is not a valid image name`, `use lower-case letters, digits, '.', '-' and '_' in ${file}`);
  const url = str('url');
  if (url === undefined) throw new UsageError(`${where} (${name}) has no url`, `add "url": "https://…" in ${file}`);
  parseDownloadUrl(`${where}.url`, url);
  const checksum = str('checksum');
  const sums = str('sums');
  const sumsSignature = str('sumsSignature');
  if (sums !== undefined) parseDownloadUrl(`${where}.sums`, sums);
  if (sumsSignature !== undefined) parseDownloadUrl(`${where}.sumsSignature`, sumsSignature);
  if (checksum === undefined && sums === undefined) throw new UsageError(`${where} (${name}) names neither checksum nor sums`, `add "checksum": "sha256:…" or "sums": "https://…/SHA256SUMS" in ${file}`);
  return {
    name,
    description: str('description') ?? '',
    url,
    checksum: checksum === undefined ? undefined : parseChecksum(`${where}.checksum`, checksum),
    sums,
    sumsSignature,
    keyring: str('keyring'),
    origin: file,
  };
}

/** The built-in catalog with the config file's entries laid over it (same name: the file's wins). */
export async function loadCatalog(env: Record<string, string | undefined>, read: (path: string) => Promise<string | undefined>): Promise<CatalogEntry[]> {
  const file = join(configDir(env), CATALOG_FILE);
  const entries = new Map<string, CatalogEntry>(BUILT_IN.map((e) => [e.name, { ...e, origin: 'built-in' }]));
  const text = await read(file);
  if (text !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`, `fix it, or move it away to use the built-in catalog`);
    }
    const images = (doc as { images?: unknown } | null)?.images;
    if (!Array.isArray(images)) throw new UsageError(`${file} has no "images" list`, 'write {"images": [{"name": …, "url": …, "checksum" or "sums": …}]}');
    images.forEach((raw, i) => {
      const e = entryFromFile(file, raw, i);
      entries.set(e.name, e);
    });
  }
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}
