/**
 * libvirt storage volume XML (https://libvirt.org/formatstorage.html#storage-volume-xml):
 * typed model, builder and parser. Field names mirror libvirt's elements.
 */
import { attr, child, el, encodeXml, textOf, xmlParser, type XmlNode } from './xml-codec.js';
import { bytesOf } from './pool-xml.js';

export interface VolumeDefinition {
  name: string;
  key?: string;
  /** file, block, dir, network, netdir, ploop */
  type?: string;
  capacityBytes?: number;
  allocationBytes?: number;
  /** Size of the file on the host (libvirt >= 6.6); absent for some pool types. */
  physicalBytes?: number;
  /** <target><path>: the file or device holding the volume. */
  path?: string;
  /** <target><format type=…>: qcow2, raw, vmdk, iso… */
  format?: string;
  /** <backingStore>: the image this one is a thin overlay on. */
  backingStore?: { path: string; format?: string };
}

export const parseVolumeXml: (xml: string) => Promise<VolumeDefinition> = xmlParser(volumeFromNode);

export function volumeFromNode(root: XmlNode): VolumeDefinition {
  const target = child(root, 'target');
  const backing = child(root, 'backingStore');
  const backingPath = textOf(child(backing, 'path'));
  return {
    name: textOf(child(root, 'name')) ?? '',
    key: textOf(child(root, 'key')),
    type: attr(root, 'type'),
    capacityBytes: bytesOf(child(root, 'capacity')),
    allocationBytes: bytesOf(child(root, 'allocation')),
    physicalBytes: bytesOf(child(root, 'physical')),
    path: textOf(child(target, 'path')),
    format: attr(child(target, 'format'), 'type'),
    backingStore: backingPath !== undefined ? { path: backingPath, format: attr(child(backing, 'format'), 'type') } : undefined,
  };
}

/**
 * What kvmctl asks libvirt to create (`vol-create`, or `vol-create-from` for a
 * copy). Built through the codec, so any name libvirt accepts reaches it as it is.
 */
export interface VolumeSpec {
  name: string;
  capacityBytes: number;
  format: string;
  /** Bytes to allocate at once; absent, libvirt allocates a raw volume in full. */
  allocationBytes?: number;
  /** A thin overlay on this image. */
  backing?: { path: string; format: string };
}

export function buildVolumeXml(spec: VolumeSpec): string {
  return encodeXml(
    el(
      'volume',
      {},
      el('name', {}, spec.name),
      el('capacity', { unit: 'bytes' }, spec.capacityBytes),
      spec.allocationBytes === undefined ? undefined : el('allocation', { unit: 'bytes' }, spec.allocationBytes),
      el('target', {}, el('format', { type: spec.format })),
      spec.backing ? el('backingStore', {}, el('path', {}, spec.backing.path), el('format', { type: spec.backing.format })) : undefined,
    ),
  );
}
