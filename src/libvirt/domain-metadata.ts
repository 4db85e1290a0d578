/**
 * kvmctl's own entry in a domain's <metadata> (libvirt keeps foreign namespaces
 * verbatim): what `vm create` made besides the disks, read back by `vm delete`,
 * `vm ssh` and `vm clone`.
 */
import { attr, child, el, type XmlNode } from './xml-codec.js';

/** kvmctl's own <metadata> entry: what `vm create` made besides the disks, so `vm delete` can remove it. */
export interface KvmctlMetadata {
  /** The NoCloud seed ISO volume it created. */
  seed?: { pool: string; volume: string };
  /** How `vm ssh` logs in: the private key beside the public key given to --ssh-key, and the guest user (--ssh-user). */
  ssh?: { key?: string; user?: string };
}

/** The XML namespace of kvmctl's <metadata> element (libvirt keeps foreign namespaces verbatim). */
export const KVMCTL_METADATA_NS = 'urn:kvmctl:domain:1';

/** kvmctl's entry of a domain's XML, if it has one. */
export function kvmctlMetadataOf(root: XmlNode): KvmctlMetadata | undefined {
  // libvirt keeps the prefix it was given; match on the namespace, whatever the prefix.
  const entry = child(root, 'metadata')?.children.find((c) => Object.entries(c.attrs).some(([k, v]) => k.startsWith('xmlns') && v === KVMCTL_METADATA_NS));
  if (!entry) return undefined;
  const seed = entry.children.find((c) => c.tag.replace(/^.*:/, '') === 'seed');
  const pool = attr(seed, 'pool');
  const volume = attr(seed, 'volume');
  const ssh = entry.children.find((c) => c.tag.replace(/^.*:/, '') === 'ssh');
  return {
    seed: pool !== undefined && volume !== undefined ? { pool, volume } : undefined,
    ssh: ssh && { key: attr(ssh, 'key'), user: attr(ssh, 'user') },
  };
}

/** The <metadata> element holding kvmctl's entry. */
export function metadataNode(m: KvmctlMetadata): XmlNode {
  const ssh = m.ssh && Object.fromEntries(Object.entries(m.ssh).filter(([, v]) => v !== undefined));
  return el(
    'metadata',
    {},
    el('kvmctl:domain', { 'xmlns:kvmctl': KVMCTL_METADATA_NS }, m.seed && el('kvmctl:seed', { pool: m.seed.pool, volume: m.seed.volume }), ssh && el('kvmctl:ssh', ssh)),
  );
}
