import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryFs, realFs, type FileHead } from '../../../src/local-fs.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { LIBVIRT_HEADER_BYTES, readLocalVolumes, volumeFromHead } from '../../../src/storage/local-volumes.js';
import { loadVolumes, type PoolRecord } from '../../../src/libvirt/storage.js';
import { batchArgv, batchStdout as batchOut, recorded, URI } from '../../support/harness.js';
import { poolPath, recordedState } from '../../support/storage.js';

const IMAGES = new URL('../../fixtures/recorded/storage/images/', import.meta.url);
const bytes = (name: string) => readFileSync(new URL(name, IMAGES));
const info = (name: string) => JSON.parse(readFileSync(new URL(`${name}.info.json`, IMAGES), 'utf8')) as { 'virtual-size': number };
const head = (header: Buffer, sizeBytes = 196624, allocatedBytes = 200704): FileHead => ({ header, sizeBytes, allocatedBytes });

describe('volume facts from a local file, as libvirt reports them', () => {
  it('an empty or data-only file is raw: capacity is its size, allocation its blocks', () => {
    expect(volumeFromHead('/p/a.img', head(Buffer.alloc(0), 0, 0))).toEqual({ path: '/p/a.img', key: '/p/a.img', type: 'file', format: 'raw', capacityBytes: 0, allocationBytes: 0 });
    expect(volumeFromHead('/p/b.img', head(Buffer.from('hello'), 10 * 2 ** 30, 4096))).toMatchObject({ format: 'raw', capacityBytes: 10 * 2 ** 30, allocationBytes: 4096 });
  });

  it('a qcow2 (recorded qemu-img 7.2 header) has its virtual size as capacity and no backing file', () => {
    expect(volumeFromHead('/p/plain.qcow2', head(bytes('plain.qcow2.head')))).toEqual({
      path: '/p/plain.qcow2',
      key: '/p/plain.qcow2',
      type: 'file',
      format: 'qcow2',
      capacityBytes: info('plain.qcow2')['virtual-size'],
      allocationBytes: 200704,
    });
  });

  it('an overlay with an absolute backing path and its format in the header', () => {
    expect(volumeFromHead('/p/backing.qcow2', head(bytes('backing.qcow2.head')))).toMatchObject({ format: 'qcow2', backingFile: '/etc/hostname', backingFormat: 'raw' });
  });

  it('a relative backing name is joined to the overlay directory, as libvirt does', () => {
    const buf = Buffer.from(bytes('backing.qcow2.head'));
    const offset = Number(buf.readBigUInt64BE(8));
    // The recorded header with its backing name replaced by a bare file name.
    buf.write('base.img\0\0\0\0\0', offset, 'latin1');
    buf.writeUInt32BE(8, 16);
    expect(volumeFromHead('/pools/p/ov.qcow2', head(buf))).toMatchObject({ backingFile: '/pools/p/base.img', backingFormat: 'raw' });
  });

  it('leaves to libvirt what only it can say: other formats, no backing format, odd backing names, data files', () => {
    for (const f of ['datafile.qcow2.head', 'json.qcow2.head', 'sparse.vmdk.head', 'stream.vmdk.head', 'x.vdi.head', 'x.vhd', 'x.vhdx.head', 'split.vmdk']) {
      const facts = volumeFromHead(`/p/${f}`, head(bytes(f)));
      // vhdx and split/flat vmdk descriptors have no magic libvirt knows: it calls them raw too.
      if (f === 'x.vhdx.head' || f === 'split.vmdk') expect(facts?.format, f).toBe('raw');
      else expect(facts, f).toBeUndefined();
    }
    const noFormat = Buffer.from(bytes('backing.qcow2.head'));
    noFormat.writeUInt32BE(0x6803f857, noFormat.readUInt32BE(100)); // the feature table first, no backing format
    expect(volumeFromHead('/p/x', head(noFormat))).toBeUndefined();
    const nested = Buffer.from(bytes('backing.qcow2.head'));
    nested.write('../b', Number(nested.readBigUInt64BE(8)), 'latin1');
    nested.writeUInt32BE(4, 16);
    expect(volumeFromHead('/p/x', head(nested))).toBeUndefined();
    const iso = Buffer.alloc(LIBVIRT_HEADER_BYTES);
    iso.write('CD001', 32769, 'latin1');
    expect(volumeFromHead('/p/x.iso', head(iso))).toBeUndefined();
    expect(volumeFromHead('/p/x', head(bytes('plain.qcow2.head').subarray(0, 60)))).toBeUndefined();
    expect(volumeFromHead('/p/x', head(Buffer.from('LUKS\xba\xbe\0\x01', 'latin1')))).toBeUndefined();
  });
});

describe('readLocalVolumes + loadVolumes', () => {
  // Recorded (mixed): pool p holding an empty raw file, a qcow2, a vmdk and gone.img (absent from the files below).
  const dir = poolPath('mixed', 'p');
  const names = recordedState('mixed').volumes('p');
  const pool: PoolRecord = {
    name: 'p',
    type: 'dir',
    state: 'running',
    active: true,
    autostart: false,
    persistent: true,
    targetPath: dir,
    source: { devices: [] },
    volumes: names.map((n) => ({ name: n, path: `${dir}/${n}` })),
  };
  const fs = memoryFs({}, [], {
    [`${dir}/a.img`]: head(Buffer.alloc(0), 0, 0),
    [`${dir}/plain.qcow2`]: head(bytes('plain.qcow2.head')),
    [`${dir}/odd.vmdk`]: head(bytes('sparse.vmdk.head')),
  });

  it('asks libvirt only for the volumes it could not read, and keeps vol-list order', async () => {
    const local = await readLocalVolumes(fs, [pool]);
    expect(local.map((v) => v.name).sort()).toEqual(['a.img', 'plain.qcow2']);
    const runner = new FakeRunner().stub(
      batchArgv([['vol-dumpxml', '--pool', 'p', '--vol', 'gone.img'], ['vol-dumpxml', '--pool', 'p', '--vol', 'odd.vmdk']]),
      { stdout: batchOut([recorded('storage/mixed/vol-dumpxml-p-gone.img.xml'), recorded('storage/mixed/vol-dumpxml-p-odd.vmdk.xml')]) },
    );
    const all = await loadVolumes(runner, URI, [pool], local);
    runner.verify();
    // vol-list's order (by name), whoever answered.
    expect(all.map((v) => [v.name, v.format])).toEqual([
      ['a.img', 'raw'],
      ['gone.img', 'raw'],
      ['odd.vmdk', 'vmdk'],
      ['plain.qcow2', 'qcow2'],
    ]);
  });

  it('a volume whose path is not its name in the target directory is never read locally', async () => {
    const moved = { ...pool, volumes: [{ name: 'a.img', path: '/elsewhere/a.img' }] };
    expect(await readLocalVolumes(fs, [moved])).toEqual([]);
  });

  it('makes no subprocess at all when every volume is a plain local file', async () => {
    const plain = { ...pool, volumes: pool.volumes!.filter((v) => v.name === 'a.img' || v.name === 'plain.qcow2') };
    const runner = new FakeRunner();
    expect(await loadVolumes(runner, URI, [plain], await readLocalVolumes(fs, [plain]))).toHaveLength(2);
    expect(runner.calls).toEqual([]);
  });

  it('reads every head through one buffer: each file says its own facts, whatever was read before it', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmctl-heads-'));
    try {
      // An overlay (backing file in its header), then a short raw file, then a plain qcow2: each head overwrites the last.
      const files: Array<[string, Buffer]> = [
        ['ov.qcow2', bytes('backing.qcow2.head')],
        ['short.img', Buffer.from('tiny')],
        ['plain.qcow2', bytes('plain.qcow2.head')],
      ];
      for (const [n, b] of files) writeFileSync(join(tmp, n), b);
      const real: PoolRecord = { ...pool, targetPath: tmp, volumes: files.map(([n]) => ({ name: n, path: join(tmp, n) })) };
      const read = await readLocalVolumes(realFs, [real]);
      expect(read.map((v) => [v.name, v.format, v.capacityBytes, v.backingFile ?? null])).toEqual([
        ['ov.qcow2', 'qcow2', info('backing.qcow2')['virtual-size'], '/etc/hostname'],
        ['short.img', 'raw', 4, null],
        ['plain.qcow2', 'qcow2', info('plain.qcow2')['virtual-size'], null],
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
