import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { runVolumeImport } from '../../../../src/commands/volume/import.js';
import { volCreate } from '../../volume-match.js';
import { outcome as codeOf, testContext, virshArgv as virsh } from '../../../support/harness.js';
import { fakeFiles, fixture, poolPath, stubStorage, writes } from '../../../support/storage.js';

const P = poolPath('empty', 'p');
const argvIs = (...argv: string[]) => argv;

describe('volume import', () => {
  const hostile = '/imgs/backing.qcow2';
  const files = fakeFiles({
    [hostile]: { sizeBytes: 196616, header: fixture('backing.qcow2.head') },
    '/imgs/plain.qcow2': { sizeBytes: 196616, header: fixture('plain.qcow2.head') },
  });

  it('refuses an image whose header names a backing file (exit 5) before any tool opens it', async () => {
    const runner = new FakeRunner();
    const r = await codeOf(runVolumeImport(testContext(runner).ctx, hostile, { pool: 'p' }, files));
    expect(r).toEqual({ code: 5, message: 'image /imgs/backing.qcow2 refers to other files (backing file /etc/hostname); importing it would read them' });
    expect(runner.calls).toEqual([]);
  });

  it('--allow-external-refs without --format is exit 2', async () => {
    const runner = new FakeRunner();
    expect((await codeOf(runVolumeImport(testContext(runner).ctx, hostile, { pool: 'p', allowExternalRefs: true }, files))).code).toBe(2);
    expect(runner.calls).toEqual([]);
  });

  it('a missing file is exit 3', async () => {
    expect((await codeOf(runVolumeImport(testContext(new FakeRunner()).ctx, '/imgs/none.qcow2', { pool: 'p' }, files))).code).toBe(3);
  });

  it('local pool: qemu-img converts to a temporary name, which is made private, linked into place, removed; then the pool is refreshed', async () => {
    const info = fixture('plain.qcow2.info.json').toString('utf8');
    let tmp = '';
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub((c: Command) => c.program === 'qemu-img' && c.args[0] === 'convert', (c) => {
        tmp = c.args[6]!;
        return {};
      })
      .stub((c: Command) => c.program === 'chmod', {})
      .stub((c: Command) => c.program === 'ln', {})
      .stub((c: Command) => c.program === 'rm', {})
      .stub(virsh('pool-refresh', '--pool', 'p'), {});
    const { ctx, io } = testContext(runner, { output: 'json' });
    await runVolumeImport(ctx, '/imgs/plain.qcow2', { pool: 'p', to: 'raw' }, files);
    runner.verify();
    expect(tmp).toMatch(new RegExp(`^${P}/\\.plain\\.raw\\.kvmctl-[0-9a-f]{8}\\.part$`));
    expect(writes(runner)).toEqual([
      `qemu-img convert -f qcow2 -O raw /imgs/plain.qcow2 ${tmp}`,
      `chmod 0600 -- ${tmp}`,
      `ln -T -- ${tmp} ${P}/plain.raw`,
      `rm -f -- ${tmp}`,
      'virsh -c qemu:///system pool-refresh --pool p',
    ]);
    expect(JSON.parse(io.out)).toMatchObject({ pool: 'p', name: 'plain.raw', format: 'raw', sourceFormat: 'qcow2', capacityBytes: 1048576 });
    // No progress bar without a terminal.
    expect(io.err).toBe('');
  });

  it('a failed conversion leaves no file behind: the temporary name is removed, nothing is linked', async () => {
    const info = fixture('plain.qcow2.info.json').toString('utf8');
    const runner = stubStorage(new FakeRunner(), 'empty', { domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub((c: Command) => c.program === 'qemu-img' && c.args[0] === 'convert', { exitCode: 1, stderr: 'qemu-img: error while writing: No space left on device\n' })
      .stub((c: Command) => c.program === 'rm', {});
    const r = await codeOf(runVolumeImport(testContext(runner).ctx, '/imgs/plain.qcow2', { pool: 'p' }, files));
    // Rolled back: exit 7, the host as before.
    expect(r.code).toBe(7);
    expect(r.message).toMatch(/^volume import p\/plain\.qcow2 failed: .*No space left on device.*; everything it had done was undone$/);
    runner.verify();
    expect(writes(runner).map((w) => w.split(' ')[0])).toEqual(['qemu-img', 'rm']);
  });

  it('remote pool: libvirt creates the volume and vol-upload streams the file (no qemu-img on the pool)', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const info = fixture('plain.qcow2.info.json').toString('utf8');
    const r = (...args: string[]) => ['virsh', '-c', remote, ...args];
    const runner = stubStorage(new FakeRunner(), 'empty', { uri: remote, domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub(volCreate(remote, 'p', { name: 'plain.qcow2', capacityBytes: 196616, allocationBytes: 0, format: 'raw' }), {})
      .stub(r('vol-upload', '--pool', 'p', '--vol', 'plain.qcow2', '--file', '/imgs/plain.qcow2', '--sparse'), {})
      .stub(r('pool-refresh', '--pool', 'p'), {});
    await runVolumeImport(testContext(runner, { uri: remote }).ctx, '/imgs/plain.qcow2', { pool: 'p' }, files);
    runner.verify();
  });

  it('remote pool: an upload that fails removes the volume it created (exit 7) and names what failed', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const info = fixture('plain.qcow2.info.json').toString('utf8');
    const r = (...args: string[]) => ['virsh', '-c', remote, ...args];
    // The volume vanished under kvmctl between create and upload (recorded: virsh on a volume that does not exist).
    const gone = { exitCode: 1, stderr: readFileSync(new URL('../../../fixtures/recorded/err-virsh-vol-info-nosuch.stderr', import.meta.url), 'utf8') };
    const runner = stubStorage(new FakeRunner(), 'empty', { uri: remote, domains: false })
      .stub(argvIs('prlimit', '--as=1073741824', '--cpu=10', '--', 'qemu-img', 'info', '-U', '--output=json', '-f', 'qcow2', '/imgs/plain.qcow2'), { stdout: info })
      .stub(volCreate(remote, 'p', { name: 'plain.qcow2', capacityBytes: 196616, allocationBytes: 0, format: 'raw' }), {})
      .stub(r('vol-upload', '--pool', 'p', '--vol', 'plain.qcow2', '--file', '/imgs/plain.qcow2', '--sparse'), gone)
      .stub(r('vol-delete', '--pool', 'p', '--vol', 'plain.qcow2'), {});
    const { code, message } = await codeOf(runVolumeImport(testContext(runner, { uri: remote }).ctx, '/imgs/plain.qcow2', { pool: 'p' }, files));
    expect(code).toBe(7);
    expect(message).toMatch(/^volume import p\/plain\.qcow2/);
    expect(message).toMatch(/Storage volume not found/);
    // Created, upload tried, created volume removed again; no pool refresh after a failure.
    expect(writes(runner).map((w) => w.split(' ').slice(3, 4)[0])).toEqual(['vol-create', 'vol-upload', 'vol-delete']);
  });
});
