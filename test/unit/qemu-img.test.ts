import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { externalReferences, imageOpts, parseImageInfo, qemuImg } from '../../src/storage/qemu-img.js';
import { sniffImage } from '../../src/storage/image-header.js';
import { QemuImg } from '../../src/storage/qemu-img-client.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { CommandTimeoutError, ToolError } from '../../src/exec/runner.js';
import type { Command } from '../../src/exec/command.js';
import { RefusedError, type KvmctlError } from '../../src/errors.js';

const IMAGES = new URL('../fixtures/recorded/storage/images/', import.meta.url);
const bytes = (name: string) => readFileSync(new URL(name, IMAGES));
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

describe('an untrusted image is inspected within limits', () => {
  const isInfo = (c: Command) => c.program === 'prlimit';

  it('qemu-img aborted by the address-space limit (recorded: prlimit --as=64M on a 2000T qcow2) is a refusal naming the image and the limits', async () => {
    const runner = new FakeRunner().stub(isInfo, { exitCode: 134, stderr: 'qemu: qemu_thread_create: Resource temporarily unavailable\n' });
    const err = await new QemuImg(runner).inspectUntrusted('/in/huge.qcow2', 'qcow2').catch((e: KvmctlError) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as KvmctlError).message).toBe(
      'image /in/huge.qcow2: qemu-img could not read its header within the limits for an untrusted image (1.0 GiB of memory, 10 s of CPU, 20 s in all): qemu: qemu_thread_create: Resource temporarily unavailable',
    );
  });

  it('a timeout (the runner stops it) is a refusal; any other failure stays a tool error', async () => {
    const timedOut = new FakeRunner().stub(isInfo, (c) => {
      throw new CommandTimeoutError(c);
    });
    expect(await new QemuImg(timedOut).inspectUntrusted('/in/x.vmdk', 'vmdk').catch((e: KvmctlError) => [e.exitCode, e.message])).toEqual([
      5,
      'image /in/x.vmdk: qemu-img could not read its header within the limits for an untrusted image (1.0 GiB of memory, 10 s of CPU, 20 s in all): it was still running after 20 s',
    ]);
    const broken = new FakeRunner().stub(isInfo, { exitCode: 1, stderr: "qemu-img: Could not open '/in/x': Image is not in qcow2 format\n" });
    expect(await new QemuImg(broken).inspectUntrusted('/in/x', 'qcow2').catch((e: unknown) => e)).toBeInstanceOf(ToolError);
  });
});
