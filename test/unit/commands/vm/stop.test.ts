/** vm stop (with fake timers: the polls run at once). */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { PAUSED, runTimed, RUNNING, sequence, SHUTOFF, STATE, useFakeTime } from './vm-states.js';
import { parseOutput } from '../../../support/schemas.js';
import { mutations, runKvmctl, virshArgv } from '../../../support/harness.js';

useFakeTime();

describe('vm stop', () => {
  const SHUTDOWN = virshArgv('shutdown', '--domain', 'w', '--mode', 'acpi');
  const DESTROY = virshArgv('destroy', '--domain', 'w');

  it('asks through ACPI and waits until it is off', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {});
    sequence(runner, STATE('w'), [RUNNING, RUNNING, RUNNING, SHUTOFF]);
    const r = await runTimed(['vm', 'stop', 'w'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm w shut down\n']);
    expect(mutations(runner)).toEqual(['virsh shutdown --domain w --mode acpi']);
  });

  it('asks again every 10 s (a booting guest drops the event), then exit 6 without --force', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {}, Infinity).stub(STATE('w'), RUNNING, Infinity);
    const r = await runTimed(['vm', 'stop', 'w', '--timeout', '25'], runner);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/timed out after 25 s waiting for VM "w" to shut down \(it is still running\)\nhint: the guest ignored the ACPI power button; power it off with: kvmctl vm stop w --force/);
    expect(mutations(runner)).toEqual(Array(3).fill('virsh shutdown --domain w --mode acpi'));
  });

  it('--force powers it off when the timeout passes', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {}, Infinity).stub(STATE('w'), RUNNING, Infinity).stub(DESTROY, {});
    const r = await runTimed(['vm', 'stop', 'w', '--timeout', '3', '--force', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(parseOutput(['vm', 'stop', 'w'], r.out)).toEqual({ changed: true, name: 'w', state: 'shutoff', forced: true });
    expect(mutations(runner).at(-1)).toBe('virsh destroy --domain w');
  });

  it('an already shut-off VM is unchanged; a paused one needs --force', async () => {
    const off = new FakeRunner().stub(STATE('w'), SHUTOFF);
    expect((await runKvmctl(['vm', 'stop', 'w'], off)).out).toBe('vm w unchanged (already shutoff)\n');
    const paused = new FakeRunner().stub(STATE('w'), PAUSED);
    const p = await runKvmctl(['vm', 'stop', 'w'], paused);
    expect([p.code, p.err]).toEqual([5, expect.stringMatching(/VM "w" is paused: a paused guest cannot react to the power button/)]);
    expect(mutations(paused)).toEqual([]);
  });
});
