/** `vm xml` from recorded virsh output. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { recorded, runKvmctl, virshArgv } from '../../../support/harness.js';

describe('vm xml', () => {
  it('prints the live XML, or the definition with --inactive', async () => {
    const runner = new FakeRunner()
      .stub(virshArgv('dumpxml', '--domain', 'fxvm-web'), { stdout: recorded('vm/virsh-dumpxml-web.xml') })
      .stub(virshArgv('dumpxml', '--domain', 'fxvm-web', '--inactive'), { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') });
    expect((await runKvmctl(['vm', 'xml', 'fxvm-web'], runner)).out).toBe(recorded('vm/virsh-dumpxml-web.xml'));
    const json = parseOutput(['vm', 'xml', 'fxvm-web'], (await runKvmctl(['vm', 'xml', 'fxvm-web', '--inactive', '-o', 'json'], runner)).out);
    expect(json).toEqual({ name: 'fxvm-web', xml: recorded('vm/virsh-dumpxml-web-inactive.xml') });
    runner.verify();
  });
});
