/** vm log -f (a real file, a fake virsh). */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { followLog } from '../../../../src/commands/vm/log-follow.js';
import { testContext, URI } from '../../../support/harness.js';

describe('vm log -f (a real file, a fake virsh)', () => {
  it('the last N lines, then what is appended, CRLF to LF even split between reads; ends when the VM is shut off', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kvmctl-follow-')), 'web1.serial.log');
    writeFileSync(file, 'old1\r\nold2\r\nold3\r\npartial\r');
    const domstate = ['virsh', '-c', URI, 'domstate', '--domain', 'web1', '--reason'];
    const fake = new FakeRunner()
      .stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-running.txt', 'utf8') })
      .stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-destroy.txt', 'utf8') });
    const { ctx, io } = testContext(fake);
    setTimeout(() => appendFileSync(file, '\nnext é\r\r\n'), 100);
    await followLog(ctx, 'web1', file, 2);
    fake.verify();
    expect(io.out).toBe('old2\nold3\npartial\nnext é\n');
    expect(io.err).toContain('vm web1 is shutoff (destroyed): end of its serial log');
  });
});
