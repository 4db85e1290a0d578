import { describe, expect, it } from 'vitest';
import { buildContext } from '../../src/app.js';
import { ExitCode, InterruptedError, NotFoundError, PartialError, RefusedError } from '../../src/errors.js';
import { memoryFs } from '../../src/local-fs.js';
import { forEachName, mostSerious, unlessAbsent } from '../../src/many-names.js';
import { memoryIO } from '../../src/output/io.js';
import { FakeRunner, newStateDir } from '../support/harness.js';

function context(output: 'table' | 'json', parallel?: string, controller = new AbortController()) {
  const io = memoryIO({ KVMCTL_STATE_DIR: newStateDir() });
  const ctx = buildContext({ output, parallel, connect: 'test:///default' }, { io, runner: new FakeRunner(), fs: memoryFs({}), version: 'test', signal: controller.signal, argv: [] });
  return { ctx, io, controller };
}

describe('forEachName', () => {
  it('runs each name in the order given; a failure does not stop the others; the exit code is the most serious', async () => {
    const { ctx, io } = context('table');
    const seen: string[] = [];
    const run = forEachName(ctx, 'vm start', ['a', 'b', 'c'], { kind: 'vm' }, async (c, name) => {
      seen.push(name);
      if (name === 'b') throw new NotFoundError(`VM "b" not found`, 'list what exists with: kvmctl vm list', { object: { kind: 'vm', name } });
      if (name === 'c') throw new RefusedError('cannot start VM "c"', 'delete the clone first');
      c.out.done(`vm ${name} started`, { name, state: 'running', changed: true });
    });
    await expect(run).rejects.toMatchObject({ exitCode: ExitCode.Refused, message: 'vm start: 2 of 3 failed (b: not-found, c: refused)' });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(io.out).toBe('vm a started\n');
    expect(io.err).toBe('kvmctl: error: VM "b" not found\nhint: list what exists with: kvmctl vm list\nkvmctl: error: cannot start VM "c"\nhint: delete the clone first\n');
  });

  it('-o json: an array in the order given, failures as {name, changed: false, error}; the most serious error is thrown as it is', async () => {
    const { ctx, io } = context('json', '3');
    const gone = new NotFoundError('VM "b" not found', undefined, { object: { kind: 'vm', name: 'b' } });
    const run = forEachName(ctx, 'vm stop', ['a', 'b'], { kind: 'vm' }, async (c, name) => {
      if (name === 'b') throw gone;
      c.out.done('x', { name, state: 'shutoff', changed: true });
    });
    await expect(run).rejects.toBe(gone);
    expect(JSON.parse(io.out)).toEqual([
      { name: 'a', state: 'shutoff', changed: true },
      { name: 'b', changed: false, error: { code: 'not-found', exit: 3, message: 'VM "b" not found', hint: null, object: { kind: 'vm', name: 'b' } } },
    ]);
  });

  it('one name runs as before: no array, the error as it is', async () => {
    const { ctx, io } = context('json');
    await forEachName(ctx, 'vm start', ['a'], { kind: 'vm' }, async (c, name) => c.out.done('x', { name }));
    expect(JSON.parse(io.out)).toEqual({ name: 'a' });
  });

  it('--parallel N acts on N at once, results still in the order given; refused (exit 2) where it is unsafe', async () => {
    const { ctx, io } = context('table', '2');
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const run = forEachName(ctx, 'vm stop', ['a', 'b', 'c'], { kind: 'vm' }, async (c, name) => {
      most = Math.max(most, ++running);
      await new Promise<void>((r) => release.push(r));
      running--;
      c.out.done(`vm ${name} shut down`, {});
    });
    while (release.length < 2) await new Promise((r) => setImmediate(r));
    release[1]!();
    while (release.length < 3) await new Promise((r) => setImmediate(r));
    release[2]!();
    release[0]!();
    await run;
    expect(most).toBe(2);
    expect(io.out).toBe('vm a shut down\nvm b shut down\nvm c shut down\n');
    const unsafe = forEachName(ctx, 'volume delete', ['p/a', 'p/b'], { kind: 'volume', serial: 'they may back each other' }, async () => undefined);
    await expect(unsafe).rejects.toMatchObject({ exitCode: ExitCode.Usage, message: '--parallel does not apply to volume delete with several names: they may back each other' });
  });

  it('an interrupt lets the current one end and starts no other: exit 130, naming what was done and what not', async () => {
    const { ctx, io, controller } = context('json');
    const seen: string[] = [];
    const run = forEachName(ctx, 'vm stop', ['a', 'b', 'c'], { kind: 'vm' }, async (c, name) => {
      seen.push(name);
      if (name === 'a') controller.abort();
      c.out.done('x', { name, changed: true });
    });
    await expect(run).rejects.toSatisfy((e) => e instanceof InterruptedError && e.message === 'vm stop was interrupted: done: a; not started: b, c');
    expect(seen).toEqual(['a']);
    const out = JSON.parse(io.out);
    expect(out[0]).toEqual({ name: 'a', changed: true });
    expect(out[1]).toMatchObject({ name: 'b', changed: false, error: { code: 'interrupted', exit: 130, object: { kind: 'vm', name: 'b' } } });
  });
});

describe('mostSerious', () => {
  it('8 > 130 > 7 > 1 > 6 > 5 > 4 > 2 > 3 > 0', () => {
    expect(mostSerious([3, 2])).toBe(2);
    expect(mostSerious([3, 5, 4])).toBe(5);
    expect(mostSerious([5, 6])).toBe(6);
    expect(mostSerious([6, 1])).toBe(1);
    expect(mostSerious([1, 7])).toBe(7);
    expect(mostSerious([7, 130])).toBe(130);
    expect(mostSerious([130, 8, 3])).toBe(8);
    expect(mostSerious([0, 0])).toBe(0);
    expect(mostSerious([])).toBe(0);
  });
});

describe('unlessAbsent', () => {
  const absence = { kind: 'vm', name: 'a', keys: { name: 'a' } };
  it('the not-found of that very object is exit 0, changed false', async () => {
    const { ctx, io } = context('json');
    await unlessAbsent(ctx, absence, async () => {
      throw new NotFoundError('VM "a" not found', undefined, { object: { kind: 'vm', name: 'a' } });
    });
    expect(JSON.parse(io.out)).toEqual({ changed: false, name: 'a' });
  });
  it('hides nothing else: another object not found, a refusal, a partial delete', async () => {
    const { ctx } = context('table');
    for (const e of [new NotFoundError('volume "p/x" not found', undefined, { object: { kind: 'volume', name: 'p/x' } }), new NotFoundError('VM "b" not found', undefined, { object: { kind: 'vm', name: 'b' } }), new RefusedError('in use'), new PartialError('left', ['x'])]) {
      await expect(unlessAbsent(ctx, absence, async () => { throw e; })).rejects.toBe(e);
    }
  });
});
