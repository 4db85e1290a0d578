/** The domain XML of a clone (`vm clone`): the source's inactive XML with what belongs to the source alone replaced. */
import { metadataNode, type KvmctlMetadata } from './domain-metadata.js';
import { sourceKey } from './domain-xml.js';
import { attr, child, el, type XmlNode } from './xml-codec.js';

export interface CloneChanges {
  name: string;
  uuid: string;
  /** sourceKey of a disk -> its new file path; disks that map to null are dropped. */
  disks: Map<string, string | null>;
  /** A fresh MAC for each NIC, in order. */
  macs: string[];
  serialLog?: string;
  /** kvmctl's metadata of the clone (its own seed); the source's is never copied. */
  metadata?: KvmctlMetadata;
}

/**
 * A copy of a domain's inactive XML for a clone: new name, uuid and MACs, new
 * disk sources, and nothing that belongs to the source alone (its nvram file,
 * its kvmctl metadata). Everything else (devices, CPU, features) is kept as is.
 */
export function cloneDomainNode(root: XmlNode, changes: CloneChanges): XmlNode {
  let nic = 0;
  const visit = (node: XmlNode, parent: string | undefined): XmlNode | null => {
    if (parent === 'domain' && node.tag === 'name') return { ...node, text: changes.name };
    if (parent === 'domain' && node.tag === 'uuid') return { ...node, text: changes.uuid };
    if (parent === 'domain' && node.tag === 'metadata') return null;
    if (node.tag === 'domain' && parent === undefined && changes.metadata) {
      const kids = node.children.map((c) => visit(c, node.tag)).filter((c): c is XmlNode => c !== null);
      const at = kids.findIndex((c) => c.tag === 'uuid') + 1;
      return { ...node, children: [...kids.slice(0, at), metadataNode(changes.metadata), ...kids.slice(at)] };
    }
    // libvirt creates a fresh nvram file (from the firmware's template) when none is named.
    if (parent === 'os' && node.tag === 'nvram') return null;
    if (parent === 'devices' && node.tag === 'disk') {
      const old = sourceKey({ file: attr(child(node, 'source'), 'file'), dev: attr(child(node, 'source'), 'dev'), pool: attr(child(node, 'source'), 'pool'), volume: attr(child(node, 'source'), 'volume') });
      if (old !== undefined && changes.disks.has(old)) {
        const next = changes.disks.get(old);
        if (next === null || next === undefined) return null;
        return {
          ...node,
          attrs: { ...node.attrs, type: 'file' },
          children: node.children.map((c) => (c.tag === 'source' ? { ...c, attrs: { file: next } } : c)).filter((c) => c.tag !== 'backingStore'),
        };
      }
    }
    if (parent === 'devices' && node.tag === 'interface') {
      const mac = changes.macs[nic++];
      // Host-side names (vnetN) and PCI addresses are the source's; libvirt assigns new ones.
      const kept = node.children.filter((c) => c.tag !== 'mac' && c.tag !== 'target');
      return { ...node, children: mac === undefined ? kept : [el('mac', { address: mac }), ...kept] };
    }
    if ((parent === 'serial' || parent === 'console') && node.tag === 'log') {
      return changes.serialLog === undefined ? null : { ...node, attrs: { ...node.attrs, file: changes.serialLog } };
    }
    const kids = node.children.map((c) => visit(c, node.tag)).filter((c): c is XmlNode => c !== null);
    return { ...node, children: kids };
  };
  const out = visit(root, undefined);
  if (!out) throw new Error('clone: empty domain');
  return out;
}
