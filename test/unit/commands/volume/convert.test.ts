import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVolumeConvert } from '../../../../src/commands/volume/convert.js';
import { outcome as codeOf, testContext } from '../../../support/harness.js';
import { fakeFiles, GiB, stubStorage } from '../../../support/storage.js';

describe('volume convert', () => {
  it('remote convert asks libvirt (vol-create-from) with the new volume XML on stdin', async () => {
    const remote = 'qemu+ssh://root@kvm1/system';
    const runner = stubStorage(new FakeRunner(), 'inuse', { uri: remote }).stub(
      ['virsh', '-c', remote, 'vol-create-from', '--pool', 'p', '--file', '/dev/stdin', '--inputpool', 'p', '--vol', 'v'],
      {},
    );
    await runVolumeConvert(testContext(runner, { uri: remote }).ctx, 'p/v', { to: 'raw' }, fakeFiles());
    runner.verify();
    const call = runner.calls.find((c) => c.args.includes('vol-create-from'))!;
    expect(call.input).toContain('<name>v.raw</name>');
    expect(call.input).toContain(`<capacity unit="bytes">${2 * GiB}</capacity>`);
    expect(call.input).toContain('<format type="raw"/>');
  });

  it('converting to the format it already has is exit 2', async () => {
    const r = await codeOf(runVolumeConvert(testContext(stubStorage(new FakeRunner(), 'inuse')).ctx, 'p/a.raw', { to: 'raw', name: 'b.raw' }, fakeFiles()));
    expect(r).toMatchObject({ code: 2, message: 'p/a.raw is already raw' });
  });
});
