/** vm start, reboot, suspend, resume and destroy: the state each reads first decides what runs. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { afterStart, emptyInventory, NOT_FOUND, PAUSED, RUNNING, SHUTOFF, STATE } from './vm-states.js';
import { mutations, runKvmctl, virshArgv } from '../../../support/harness.js';

describe('start, reboot, suspend, resume, destroy', () => {
  const verbs: Array<{ argv: string[]; state: object; runs?: string; out: RegExp; code?: number }> = [
    { argv: ['vm', 'start', 'w'], state: SHUTOFF, runs: 'virsh start --domain w', out: /^vm w started\n$/ },
    { argv: ['vm', 'start', 'w'], state: RUNNING, out: /^vm w unchanged \(already running\)\n$/ },
    { argv: ['vm', 'reboot', 'w'], state: RUNNING, runs: 'virsh reboot --domain w --mode acpi', out: /asked to reboot/ },
    { argv: ['vm', 'reboot', 'w'], state: SHUTOFF, out: /cannot reboot VM "w": it is shutoff\nhint: start it instead/, code: 5 },
    { argv: ['vm', 'suspend', 'w'], state: RUNNING, runs: 'virsh suspend --domain w', out: /suspended/ },
    { argv: ['vm', 'suspend', 'w'], state: PAUSED, out: /unchanged \(already paused\)/ },
    { argv: ['vm', 'suspend', 'w'], state: SHUTOFF, out: /cannot suspend VM "w": it is shutoff/, code: 5 },
    { argv: ['vm', 'resume', 'w'], state: PAUSED, runs: 'virsh resume --domain w', out: /resumed/ },
    { argv: ['vm', 'resume', 'w'], state: RUNNING, out: /unchanged \(already running\)/ },
    { argv: ['vm', 'resume', 'w'], state: SHUTOFF, out: /cannot resume VM "w": it is shutoff/, code: 5 },
    { argv: ['vm', 'destroy', 'w'], state: RUNNING, runs: 'virsh destroy --domain w', out: /powered off \(destroyed; its disks and definition are kept\)/ },
    { argv: ['vm', 'destroy', 'w'], state: SHUTOFF, out: /unchanged \(already shutoff\)/ },
  ];
  for (const v of verbs) {
    it(`${v.argv.slice(1).join(' ')} when ${(v.state as { stdout: string }).stdout.split(' ')[0]}`, async () => {
      const runner = new FakeRunner().stub(STATE('w'), v.state);
      if (v.runs) runner.stub(v.runs.split(' ').slice(0, 1).concat(['-c', 'qemu:///system'], v.runs.split(' ').slice(1)), {});
      if (v.runs === 'virsh start --domain w') afterStart(emptyInventory(runner), 'w');
      const r = await runKvmctl(v.argv, runner);
      expect(r.code).toBe(v.code ?? 0);
      expect(v.code ? r.err : r.out).toMatch(v.out);
      expect(mutations(runner)).toEqual(v.runs ? [v.runs] : []);
      runner.verify();
    });
  }

  it('-o json: changed, the name and the state after it, in the shape of its schema', async () => {
    const after: Record<string, string> = { start: 'running', reboot: 'running', suspend: 'paused', resume: 'running', destroy: 'shutoff' };
    for (const v of verbs.filter((x) => x.code === undefined)) {
      const runner = new FakeRunner().stub(STATE('w'), v.state);
      if (v.runs) runner.stub(v.runs.split(' ').slice(0, 1).concat(['-c', 'qemu:///system'], v.runs.split(' ').slice(1)), {});
      if (v.runs === 'virsh start --domain w') afterStart(emptyInventory(runner), 'w');
      const r = await runKvmctl([...v.argv, '-o', 'json'], runner);
      const verb = v.argv[1] ?? '';
      const unchangedState = /already (\w+)/.exec(v.out.source)?.[1];
      expect(parseOutput(v.argv, r.out)).toEqual({ changed: v.runs !== undefined, name: 'w', state: v.runs ? after[verb] : unchangedState });
      runner.verify();
    }
  });

  it('a VM that does not exist is exit 3 naming it, for every verb', async () => {
    for (const verb of ['start', 'stop', 'reboot', 'suspend', 'resume', 'destroy', 'delete']) {
      const runner = new FakeRunner().stub(STATE('nosuch'), NOT_FOUND);
      const r = await runKvmctl(['vm', verb, 'nosuch'], runner);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/VM "nosuch" not found[\s\S]*hint: list what exists with: kvmctl vm list/);
    }
  });

  it('odd names reach virsh as one argv element, a leading - after --', async () => {
    for (const name of ['a;b', 'x y', '-x', "q'u"]) {
      const runner = afterStart(emptyInventory(new FakeRunner().stub(STATE(name), SHUTOFF).stub(virshArgv('start', '--domain', name), {})), name);
      const r = await runKvmctl(['vm', 'start', '--', name], runner);
      expect(r.code).toBe(0);
      runner.verify();
    }
  });
});
