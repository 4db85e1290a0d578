/**
 * libvirt storage pool XML (https://libvirt.org/formatstorage.html): typed
 * model, builder and parser. Field names mirror libvirt's elements.
 */
import { libvirtUnitFactor } from '../units/size.js';
import { attr, child, children, el, encodeXml, textOf, xmlParser, type XmlNode } from './xml-codec.js';

/**
 * The pool types kvmctl creates; any other type libvirt reports is read as is.
 * Their volumes are files (or LVs) at TARGET/NAME, a path known before the volume exists.
 */
export const POOL_TYPES = ['dir', 'fs', 'netfs', 'logical'] as const;

/** Pool types whose target is a directory of the host holding the volumes as files (libvirt's fs backend). */
const DIRECTORY_POOL_TYPES: readonly string[] = ['dir', 'fs', 'netfs'];

export function isPoolType(type: string): type is (typeof POOL_TYPES)[number] {
  return (POOL_TYPES as readonly string[]).includes(type);
}

export function isDirectoryPoolType(type: string): boolean {
  return DIRECTORY_POOL_TYPES.includes(type);
}

export interface PoolSource {
  /** <host name=…> (netfs: the NFS server). */
  host?: string;
  /** <dir path=…> (netfs: the exported directory). */
  dir?: string;
  /** <device path=…> (fs: the block device; logical: physical volumes). */
  devices: string[];
  /** <name> (logical: the volume group). */
  name?: string;
  /** <format type=…> (fs: ext4/auto…, netfs: nfs/auto, logical: lvm2). */
  format?: string;
}

export interface PoolDefinition {
  type: string;
  name: string;
  uuid?: string;
  capacityBytes?: number;
  allocationBytes?: number;
  availableBytes?: number;
  source: PoolSource;
  /** <target><path>: the directory (or /dev/VG) where the pool's volumes live. */
  targetPath?: string;
}

/** What `pool create` asks for: a union on the pool type, each with the fields libvirt requires. */
export type PoolSpec =
  | { type: 'dir'; name: string; path: string }
  | { type: 'fs'; name: string; path: string; sourceDev: string; sourceFormat?: string }
  | { type: 'netfs'; name: string; path: string; sourceHost: string; sourcePath: string; sourceFormat?: string }
  | { type: 'logical'; name: string; vg: string; sourceDevs: string[] };

/** The definition a spec stands for, with libvirt's defaults filled in. */
export function poolDefinitionOf(spec: PoolSpec): PoolDefinition {
  switch (spec.type) {
    case 'dir':
      return { type: 'dir', name: spec.name, source: { devices: [] }, targetPath: spec.path };
    case 'fs':
      return { type: 'fs', name: spec.name, source: { devices: [spec.sourceDev], format: spec.sourceFormat ?? 'auto' }, targetPath: spec.path };
    case 'netfs':
      return {
        type: 'netfs',
        name: spec.name,
        source: { host: spec.sourceHost, dir: spec.sourcePath, devices: [], format: spec.sourceFormat ?? 'auto' },
        targetPath: spec.path,
      };
    case 'logical':
      return { type: 'logical', name: spec.name, source: { devices: spec.sourceDevs, name: spec.vg, format: 'lvm2' }, targetPath: `/dev/${spec.vg}` };
  }
}

export function buildPoolXml(spec: PoolSpec): string {
  return encodeXml(poolNode(poolDefinitionOf(spec)));
}

function poolNode(def: PoolDefinition): XmlNode {
  const s = def.source;
  const hasSource = s.host !== undefined || s.dir !== undefined || s.devices.length > 0 || s.name !== undefined || s.format !== undefined;
  return el(
    'pool',
    { type: def.type },
    el('name', {}, def.name),
    def.uuid !== undefined && el('uuid', {}, def.uuid),
    hasSource &&
      el(
        'source',
        {},
        s.host !== undefined && el('host', { name: s.host }),
        s.dir !== undefined && el('dir', { path: s.dir }),
        s.devices.map((d) => el('device', { path: d })),
        s.name !== undefined && el('name', {}, s.name),
        s.format !== undefined && el('format', { type: s.format }),
      ),
    def.targetPath !== undefined && el('target', {}, el('path', {}, def.targetPath)),
  );
}

export const parsePoolXml: (xml: string) => Promise<PoolDefinition> = xmlParser(poolFromNode);

export function poolFromNode(root: XmlNode): PoolDefinition {
  const source = child(root, 'source');
  return {
    type: attr(root, 'type') ?? '',
    name: textOf(child(root, 'name')) ?? '',
    uuid: textOf(child(root, 'uuid')),
    capacityBytes: bytesOf(child(root, 'capacity')),
    allocationBytes: bytesOf(child(root, 'allocation')),
    availableBytes: bytesOf(child(root, 'available')),
    source: {
      host: attr(child(source, 'host'), 'name'),
      dir: attr(child(source, 'dir'), 'path'),
      devices: children(source, 'device')
        .map((d) => attr(d, 'path'))
        .filter((p): p is string => p !== undefined),
      name: textOf(child(source, 'name')),
      format: attr(child(source, 'format'), 'type'),
    },
    targetPath: textOf(child(child(root, 'target'), 'path')),
  };
}

/** <capacity unit='bytes'>N</capacity> -> N bytes (libvirt's default unit for storage is bytes). */
export function bytesOf(node: XmlNode | undefined): number | undefined {
  if (node?.text === undefined) return undefined;
  const n = Number(node.text) * (libvirtUnitFactor(attr(node, 'unit') ?? 'bytes') ?? 1);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Differences between what a `pool create` asks for and an existing pool,
 * as "field: existing -> wanted" lines; empty when the create is a no-op.
 */
export function poolSpecDifferences(existing: PoolDefinition, spec: PoolSpec): string[] {
  const want = poolDefinitionOf(spec);
  const diffs: string[] = [];
  const cmp = (field: string, have: unknown, wanted: unknown) => {
    if (JSON.stringify(have ?? null) !== JSON.stringify(wanted ?? null)) diffs.push(`${field}: ${show(have)} -> ${show(wanted)}`);
  };
  cmp('type', existing.type, want.type);
  cmp('target path', existing.targetPath, want.targetPath);
  cmp('source host', existing.source.host, want.source.host);
  cmp('source path', existing.source.dir, want.source.dir);
  cmp('source devices', existing.source.devices, want.source.devices);
  cmp('volume group', existing.source.name, want.source.name);
  // libvirt fills in a format when none was given; only an explicit different one counts.
  if (existing.source.format !== undefined && want.source.format !== 'auto') cmp('source format', existing.source.format, want.source.format);
  return diffs;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '(none)';
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.join(',');
  return String(v);
}
