import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QemuImg } from '../../../src/storage/qemu-img-client.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { CommandTimeoutError, ToolError } from '../../../src/exec/runner.js';
import type { Command } from '../../../src/exec/command.js';
import { RefusedError, type KvmctlError } from '../../../src/errors.js';

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

const rec = (f: string) => readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const line = (c: Command) => [c.program, ...c.args].join(' ');

describe('the qemu-img client (recorded qemu-img 7.2 output, test/fixtures/recorded and its storage/ folder)', () => {
  it('info and infoChain name the format, read with -U, and parse what qemu-img printed', async () => {
    const runner = new FakeRunner()
      .stub(['qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/p/plain.qcow2'], { stdout: rec('qemu-img-info-qcow2.json') })
      .stub(['qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '--backing-chain', '/p/overlay.qcow2'], { stdout: rec('qemu-img-info-overlay-backing-chain.json') });
    const q = new QemuImg(runner);
    expect((await q.info('/p/plain.qcow2', 'qcow2')).format).toBe('qcow2');
    const chain = await q.infoChain('/p/overlay.qcow2', 'qcow2', true);
    expect(chain.map((i) => i.format)).toEqual(['qcow2', 'qcow2']);
    expect(chain[0]!.backingFilename).toBe('plain.qcow2');
    runner.verify();
  });

  it('a failed info is a ToolError carrying the argv and qemu-img\'s own message', async () => {
    const runner = new FakeRunner().stub((c) => c.program === 'qemu-img', { exitCode: 1, stderr: rec('err-qemu-img-info-missing.stderr') });
    const err = (await new QemuImg(runner).info('/p/missing.qcow2', 'qcow2').catch((e: unknown) => e)) as ToolError;
    expect(err).toBeInstanceOf(ToolError);
    expect(line(err.command)).toBe('qemu-img info -U --output=json -f qcow2 /p/missing.qcow2');
    expect(err.message).toMatch(/^qemu-img info -U --output=json -f qcow2 \/p\/missing\.qcow2 failed \(exit 1\): qemu-img: Could not open 'missing\.qcow2'/);
  });

  it('sameContent is qemu-img compare with both formats named: exit 0 same, anything else not', async () => {
    const runner = new FakeRunner()
      .stub(['qemu-img', 'compare', '-U', '-f', 'qcow2', '-F', 'raw', '/a', '/b'], { exitCode: 0 })
      .stub(['qemu-img', 'compare', '-U', '-f', 'qcow2', '-F', 'raw', '/a', '/c'], { exitCode: 1, stdout: rec('storage/qemu-img/compare-mismatch.txt') });
    const q = new QemuImg(runner);
    expect(await q.sameContent({ path: '/a', format: 'qcow2' }, { path: '/b', format: 'raw' })).toBe(true);
    expect(await q.sameContent({ path: '/a', format: 'qcow2' }, { path: '/c', format: 'raw' })).toBe(false);
    runner.verify();
  });

  it('convert and the snapshot calls change state (dry-run skips them) and throw when qemu-img fails', async () => {
    const runner = new FakeRunner()
      .stub(['qemu-img', 'convert', '-f', 'vmdk', '-O', 'qcow2', '/in.vmdk', '/p/.x.part'], {})
      .stub(['qemu-img', 'snapshot', '--image-opts', '-c', 's1', 'driver=qcow2,file.filename=/p/v.qcow2'], {})
      .stub(['qemu-img', 'snapshot', '--image-opts', '-a', '2', 'driver=qcow2,file.filename=/p/v.qcow2'], {})
      .stub(['qemu-img', 'snapshot', '--image-opts', '-d', 's1', 'driver=qcow2,file.filename=/p/v.qcow2'], { exitCode: 1, stderr: rec('storage/qemu-img/snapshot-d-missing.stderr') });
    const q = new QemuImg(runner);
    await q.convert({ path: '/in.vmdk', format: 'vmdk' }, '/p/.x.part', 'qcow2');
    await q.snapshotCreate('/p/v.qcow2', 's1');
    await q.snapshotApply('/p/v.qcow2', '2');
    await expect(q.snapshotDelete('/p/v.qcow2', 's1')).rejects.toThrow(/Could not delete snapshot 's1'/);
    expect(runner.calls.map((c) => c.mutates)).toEqual([true, true, true, true]);
    runner.verify();
  });
});

