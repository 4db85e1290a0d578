import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError, exitCodeOf } from '../../../src/errors.js';
import { mutatingCommand } from '../../../src/exec/command.js';
import { planInputs, runPlan, when, type Plan } from '../../../src/exec/plan.js';
import { poolCalls } from '../../../src/libvirt/storage.js';
import { callArgv, FakeRunner, mutations, newStateDir, testContext } from '../../support/harness.js';

const plan = (file: string): Plan => ({
  label: 'pool create p',
  steps: [
    { what: 'storage pool p (definition)', do: { virsh: poolCalls.define('p', '<pool/>') }, undo: { virsh: poolCalls.undefine('p') } },
    { what: `state file ${file}`, do: { write: { path: file, text: '{}\n' } }, undo: { remove: file } },
    ...when(true, { what: 'storage pool p (running)', do: { virsh: poolCalls.start('p') }, undo: { virsh: poolCalls.destroy('p') } }),
    ...when(false, { what: 'never', do: { virsh: poolCalls.autostart('p', true) } }),
  ],
});

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: exitCodeOf(e), message: (e as Error).message };
  }
  throw new Error('expected a failure');
}

describe('runPlan', () => {
  it('runs the steps in order and writes state files', async () => {
    const file = join(newStateDir(), 'rec.json');
    const runner = new FakeRunner().stub(callArgv(poolCalls.define('p', '')), {}).stub(callArgv(poolCalls.start('p')), {});
    await runPlan(testContext(runner).ctx, plan(file));
    expect(mutations(runner)).toEqual(['virsh pool-define --file /dev/stdin', 'virsh pool-start --pool p']);
    expect(runner.calls[0]?.input).toBe('<pool/>');
    expect(readFileSync(file, 'utf8')).toBe('{}\n');
  });

  it('a failing step undoes what ran, in reverse, files included (exit 7), naming the subject', async () => {
    const file = join(newStateDir(), 'rec.json');
    const runner = new FakeRunner()
      .stub(callArgv(poolCalls.define('p', '')), {})
      .stub(callArgv(poolCalls.start('p')), { exitCode: 1, stderr: 'error: internal error: boom\n' })
      .stub(callArgv(poolCalls.undefine('p')), {});
    const r = await failure(runPlan(testContext(runner).ctx, plan(file)));
    expect(r).toEqual({ code: 7, message: 'pool create p failed: storage pool "p": virsh pool-start failed: internal error: boom; everything it had done was undone' });
    expect(mutations(runner)).toEqual(['virsh pool-define --file /dev/stdin', 'virsh pool-start --pool p', 'virsh pool-undefine --pool p']);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('an undo that fails is named with its manual command (exit 8)', async () => {
    const runner = new FakeRunner()
      .stub(callArgv(poolCalls.define('p', '')), {})
      .stub(callArgv(poolCalls.start('p')), { exitCode: 1, stderr: 'error: boom\n' })
      .stub(callArgv(poolCalls.undefine('p')), { exitCode: 1, stderr: 'error: still boom\n' });
    const steps = plan('/nonexistent/x').steps.filter((s) => !('write' in s.do));
    const r = await failure(runPlan(testContext(runner).ctx, { label: 'pool create p', steps }));
    expect(r.code).toBe(8);
    expect(r.message).toMatch(/undoing it also failed/);
  });

  it('--dry-run prints the commands and the file writes, and changes nothing', async () => {
    const file = join(newStateDir(), 'rec.json');
    const runner = new FakeRunner();
    const { ctx, io } = testContext(runner, { dryRun: true });
    await runPlan(ctx, plan(file));
    expect(runner.calls).toEqual([]);
    expect(io.err).toBe(`[dry-run] would run: virsh -c qemu:///system pool-define --file /dev/stdin\n[dry-run] with input:\n<pool/>\n[dry-run] would write ${file}\n[dry-run] would run: virsh -c qemu:///system pool-start --pool p\n`);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('an undoFirst undo runs when its own step fails (a partial file); failure classifies a command; viaRunner work runs under --dry-run', async () => {
    const link = mutatingCommand('ln', ['-T', '--', '/p/.t', '/p/t']);
    const rmTmp = mutatingCommand('rm', ['-f', '--', '/p/.t']);
    const steps = (write: () => Promise<void>): Plan['steps'] => [
      { what: 'partial file /p/.t', do: { run: write, describe: 'write /p/.t', viaRunner: true }, undo: { command: rmTmp }, undoFirst: true },
      { what: 'file /p/t', do: { command: link, failure: (r) => (/File exists/.test(r.stderr) ? new ConflictError('/p/t appeared', 'choose another name') : undefined) } },
    ];
    const cut = new FakeRunner().stub([rmTmp.program, ...rmTmp.args], {});
    const r1 = await failure(runPlan(testContext(cut).ctx, { label: 'write /p/t', steps: steps(() => Promise.reject(new Error('disk full'))) }));
    expect(r1.code).toBe(7);
    expect(mutations(cut)).toEqual(['rm -f -- /p/.t']);

    const taken = new FakeRunner().stub([link.program, ...link.args], { exitCode: 1, stderr: "ln: failed to create hard link '/p/t': File exists\n" }).stub([rmTmp.program, ...rmTmp.args], {});
    const r2 = await failure(runPlan(testContext(taken).ctx, { label: 'write /p/t', steps: steps(async () => undefined) }));
    expect(r2).toMatchObject({ code: 7, message: expect.stringMatching(/^write \/p\/t failed: \/p\/t appeared/) });

    let wrote = 0;
    const { ctx, io } = testContext(new FakeRunner(), { dryRun: true });
    await runPlan(ctx, { label: 'write /p/t', steps: steps(async () => void wrote++) });
    expect(wrote).toBe(1);
    expect(io.err).toBe('[dry-run] would run: ln -T -- /p/.t /p/t\n');
  });

  it('planInputs gives the XML the plan would feed to virsh (what --print-xml prints)', () => {
    expect(planInputs(plan('/x'))).toEqual(['<pool/>']);
  });
});
