import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { externalReferences, imageOpts, parseImageInfo, qemuImg } from '../../../src/storage/qemu-img.js';

const IMAGES = new URL('../../fixtures/recorded/storage/images/', import.meta.url);

const info = (name: string) => parseImageInfo(readFileSync(new URL(name, IMAGES), 'utf8'));

const argv = (c: { program: string; args: string[]; mutates: boolean }) => [c.program, ...c.args, c.mutates ? '(mutates)' : '(read)'];

describe('qemu-img argv: the format is always named', () => {
  it('info reads with -U and -f, optionally the whole chain', () => {
    expect(argv(qemuImg.info('/p/a b.qcow2', 'qcow2'))).toEqual(['qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/p/a b.qcow2', '(read)']);
    expect(argv(qemuImg.info('/p/x', 'raw', true))).toEqual(['qemu-img', 'info', '-U', '--output=json', '-f', 'raw', '--backing-chain', '/p/x', '(read)']);
    const untrusted = qemuImg.untrustedInfo('/in/x.img', 'vmdk');
    expect(argv(untrusted)).toEqual(['prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'vmdk', '/in/x.img', '(read)']);
    expect(untrusted.timeoutMs).toBe(20_000);
  });

  it('convert names both formats; compare names both with -f and -F', () => {
    expect(argv(qemuImg.convert('/in.vmdk', 'vmdk', '/p/.x.part', 'qcow2'))).toEqual(['qemu-img', 'convert', '-f', 'vmdk', '-O', 'qcow2', '/in.vmdk', '/p/.x.part', '(mutates)']);
    expect(argv(qemuImg.compare('/a', 'qcow2', '/b', 'raw'))).toEqual(['qemu-img', 'compare', '-U', '-f', 'qcow2', '-F', 'raw', '/a', '/b', '(read)']);
  });

  it('snapshot (which has no -f) names the driver through --image-opts, commas in paths doubled', () => {
    expect(imageOpts('qcow2', '/p/a,b.qcow2')).toBe('driver=qcow2,file.filename=/p/a,,b.qcow2');
    expect(argv(qemuImg.snapshotCreate('/p/v.qcow2', 'before'))).toEqual(['qemu-img', 'snapshot', '--image-opts', '-c', 'before', 'driver=qcow2,file.filename=/p/v.qcow2', '(mutates)']);
    expect(argv(qemuImg.snapshotApply('/p/v.qcow2', '3'))).toEqual(['qemu-img', 'snapshot', '--image-opts', '-a', '3', 'driver=qcow2,file.filename=/p/v.qcow2', '(mutates)']);
    expect(argv(qemuImg.snapshotDelete('/p/v.qcow2', 'before'))).toEqual(['qemu-img', 'snapshot', '--image-opts', '-d', 'before', 'driver=qcow2,file.filename=/p/v.qcow2', '(mutates)']);
  });
});

describe('qemu-img info --output=json', () => {
  it('reads an overlay chain with its snapshot (recorded from the lab)', () => {
    const [top, base] = info('overlay-chain.info.json');
    expect(top).toMatchObject({
      format: 'qcow2',
      virtualSizeBytes: 134217728,
      actualSizeBytes: 208896,
      backingFilename: '/var/tmp/kvmctl-lab/storage/pools/t1/disk.qcow2',
      backingFormat: 'qcow2',
      compat: '0.10',
      snapshots: [{ id: '1', name: 's1', date: '2026-11-25T01:20:10.996Z', vmStateBytes: 0 }],
    });
    expect(base).toMatchObject({ filename: '/var/tmp/kvmctl-lab/storage/pools/t1/disk.qcow2', virtualSizeBytes: 67108864, compat: '1.1', snapshots: [] });
  });

  it.each([
    ['plain.qcow2.info.json', '/tmp/imgs/plain.qcow2', []],
    ['backing.qcow2.info.json', '/tmp/imgs/backing.qcow2', ['backing file /etc/hostname']],
    ['datafile.qcow2.info.json', '/tmp/imgs/datafile.qcow2', ['external data file /tmp/imgs/data.raw']],
    ['json.qcow2.info.json', '/tmp/imgs/json.qcow2', [expect.stringMatching(/^backing file json:\{/)]],
    ['sparse.vmdk.info.json', '/tmp/imgs/sparse.vmdk', []],
    ['split.vmdk.info.json', '/tmp/imgs/split.vmdk', ['vmdk extent /tmp/imgs/split-s001.vmdk']],
    ['flat.vmdk.info.json', '/tmp/imgs/flat.vmdk', ['vmdk extent /etc/hostname']],
  ])('%s: references to other files %j', (file, self, refs) => {
    expect(externalReferences(info(file)[0]!, self)).toEqual(refs);
  });
});
