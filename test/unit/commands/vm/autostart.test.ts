/** vm autostart: reads the flag, then sets it or says it is unchanged. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { mutations, recorded, runKvmctl, virshArgv } from '../../../support/harness.js';

describe('vm autostart', () => {
  it('reads the flag, sets it, or says unchanged', async () => {
    const on = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('vm/virsh-dominfo-off.txt') }).stub(virshArgv('autostart', '--domain', 'fxvm-off'), {});
    expect((await runKvmctl(['vm', 'autostart', 'fxvm-off'], on)).out).toBe('vm fxvm-off: autostart enabled\n');
    on.verify();
    const same = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('vm/virsh-dominfo-off.txt') });
    expect((await runKvmctl(['vm', 'autostart', 'fxvm-off', '--disable'], same)).out).toBe('vm fxvm-off unchanged (autostart already disabled)\n');
    expect(mutations(same)).toEqual([]);
  });

  it('-o json: changed, the name and the flag as it now is', async () => {
    const on = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('vm/virsh-dominfo-off.txt') }).stub(virshArgv('autostart', '--domain', 'fxvm-off'), {});
    expect(parseOutput(['vm', 'autostart'], (await runKvmctl(['vm', 'autostart', 'fxvm-off', '-o', 'json'], on)).out)).toEqual({ changed: true, name: 'fxvm-off', autostart: true });
    const same = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('vm/virsh-dominfo-off.txt') });
    expect(parseOutput(['vm', 'autostart'], (await runKvmctl(['vm', 'autostart', 'fxvm-off', '--disable', '-o', 'json'], same)).out)).toEqual({ changed: false, name: 'fxvm-off', autostart: false });
    on.verify();
    same.verify();
  });
});
