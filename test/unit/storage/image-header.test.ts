import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../../src/storage/image-header.js';

const IMAGES = new URL('../../fixtures/recorded/storage/images/', import.meta.url);

const bytes = (name: string) => readFileSync(new URL(name, IMAGES));

describe('image headers, read before any tool opens the file', () => {
  it.each([
    ['plain.qcow2.head', 'qcow2', []],
    ['backing.qcow2.head', 'qcow2', ['backing file /etc/hostname']],
    ['datafile.qcow2.head', 'qcow2', ['external data file /tmp/imgs/data.raw']],
    ['json.qcow2.head', 'qcow2', [expect.stringMatching(/^backing file json:\{"driver":"raw"/)]],
    ['sparse.vmdk.head', 'vmdk', []],
    ['stream.vmdk.head', 'vmdk', []],
    ['split.vmdk', 'vmdk', ['vmdk extent split-s001.vmdk']],
    ['flat.vmdk', 'vmdk', ['vmdk extent /etc/hostname']],
    ['x.vdi.head', 'vdi', []],
    ['x.vhdx.head', 'vhdx', []],
    ['x.vhd', 'vpc', []],
  ])('%s is %s with references %j', (file, format, refs) => {
    expect(sniffImage(bytes(file))).toEqual({ format, references: refs });
  });

  it('anything else is raw, including an empty file; other formats are named', () => {
    expect(sniffImage(Buffer.from('hello world'))).toEqual({ format: 'raw', references: [] });
    expect(sniffImage(Buffer.alloc(0))).toEqual({ format: 'raw', references: [] });
    expect(sniffImage(Buffer.from('QED\0rest')).format).toBe('qed');
    expect(sniffImage(Buffer.from('LUKS\xba\xbe', 'latin1')).format).toBe('luks');
    // A qcow2 header cut short is treated as referring to something: never silently trusted.
    expect(sniffImage(bytes('backing.qcow2.head').subarray(0, 40)).references).toEqual(['a truncated qcow2 header']);
  });
});
