/** Disk formats (src/libvirt/disk-formats.ts): one list per use, and the flags that take them. */
import { describe, expect, it } from 'vitest';
import { ATTACH_FORMATS, IMAGE_FORMATS, isImageFormat, TARGET_FORMATS } from '../../../src/libvirt/disk-formats.js';
import { parseDisk } from '../../../src/commands/vm/create-args.js';

describe('disk formats', () => {
  it('what kvmctl writes it can read, and what it reads it can attach', () => {
    expect(TARGET_FORMATS.every((f) => (IMAGE_FORMATS as readonly string[]).includes(f))).toBe(true);
    expect(IMAGE_FORMATS.every((f) => (ATTACH_FORMATS as readonly string[]).includes(f))).toBe(true);
    expect(isImageFormat('vmdk')).toBe(true);
    expect(isImageFormat('qed')).toBe(false);
    expect(isImageFormat(undefined)).toBe(false);
  });

  it('vm create --disk: a new disk takes a written format, an existing file any format it can attach', () => {
    expect(parseDisk('size=1G,format=raw')).toMatchObject({ kind: 'new', format: 'raw' });
    expect(() => parseDisk('size=1G,format=vmdk')).toThrow('--disk format= "vmdk": expected qcow2, raw');
    expect(parseDisk('path=/srv/old.qed,format=qed')).toMatchObject({ kind: 'path', format: 'qed' });
    expect(() => parseDisk('path=/srv/x.iso,format=iso')).toThrow('--disk format= "iso": expected qcow2, raw, vmdk, vdi, vhdx, vpc, qed');
  });
});
