import { describe, expect, it } from 'vitest';
import { main } from '../../../src/main.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { memoryIO } from '../../../src/output/io.js';
import { memoryFs } from '../../../src/local-fs.js';
import {
  ConflictError,
  EXIT_CODE_DOCS,
  ExitCode,
  InterruptedError,
  KvmctlError,
  NotFoundError,
  PartialError,
  RefusedError,
  RolledBackError,
  TimeoutError,
  UsageError,
} from '../../../src/errors.js';
import { ERROR_CODES, formatJsonError, jsonErrorOf, wantsJson } from '../../../src/output/json-error.js';
import { classifyVirshError, virshWrite } from '../../../src/libvirt/virsh.js';
import { assertSchema, parseJsonError } from '../../support/schemas.js';

function run(argv: string[], runner = new FakeRunner()) {
  const io = memoryIO({});
  const deps = { io, runner, fs: memoryFs({}), version: '9.9.9', signal: new AbortController().signal, argv };
  return main(['node', 'kvmctl', ...argv], deps).then((code) => ({ code, out: io.out, err: io.err, runner }));
}

describe('the JSON error object', () => {
  const vm = { object: { kind: 'vm', name: 'web1' } };
  it.each<[ExitCode, KvmctlError, string]>([
    [ExitCode.Failure, new KvmctlError('virsh start failed', 'run with -v'), 'failure'],
    [ExitCode.Usage, new UsageError('bad --memory'), 'usage'],
    [ExitCode.NotFound, new NotFoundError('VM "web1" not found', 'list them', vm), 'not-found'],
    [ExitCode.Conflict, new ConflictError('VM "web1" already exists', undefined, vm), 'conflict'],
    [ExitCode.Refused, new RefusedError('VM "web1" is running', 'stop it', vm), 'refused'],
    [ExitCode.Timeout, new TimeoutError('no IP after 60 s', undefined, vm), 'timeout'],
    [ExitCode.RolledBack, new RolledBackError('create failed; undone'), 'rolled-back'],
    [ExitCode.Partial, new PartialError('undo failed', ['volume p/web1.qcow2']), 'partial'],
    [ExitCode.Interrupted, new InterruptedError('interrupted'), 'interrupted'],
  ])('exit %i: code, exit, message, hint and object, matching the schema', (exit, err, code) => {
    const j = jsonErrorOf(err);
    assertSchema('error', j);
    expect(j.error).toMatchObject({ code, exit, message: err.message, hint: err.hint ?? null, object: err.object ?? null });
    if (err instanceof PartialError) expect(j.error.leftovers).toEqual(['volume p/web1.qcow2']);
    else expect(j.error).not.toHaveProperty('leftovers');
  });

  it('names every documented non-zero exit code', () => {
    for (const [exit] of EXIT_CODE_DOCS) expect(ERROR_CODES[exit]).toMatch(/^[a-z-]+$/);
  });

  it.each<[string, string]>([
    ["error: failed to get domain 'web1'\n", 'not-found'],
    ["error: operation failed: domain 'web1' already exists with uuid 1\n", 'conflict'],
    ['error: Requested operation is not valid: domain is not running\n', 'refused'],
    ['error: internal error: qemu unexpectedly closed the monitor\n', 'failure'],
  ])('a virsh failure about a VM names it in the object (%j -> %s)', (stderr, code) => {
    const cmd = virshWrite('qemu:///system', ['start', '--domain', 'web1']);
    const j = jsonErrorOf(classifyVirshError(cmd, { exitCode: 1, stdout: '', stderr }, { kind: 'vm', name: 'web1' }, 'qemu:///system'));
    assertSchema('error', j);
    expect(j.error).toMatchObject({ code, object: { kind: 'vm', name: 'web1' } });
  });

  it('an error that is not kvmctl\'s own is code internal, exit 1', () => {
    const j = jsonErrorOf(new TypeError('x is undefined'));
    assertSchema('error', j);
    expect(j.error).toEqual({ code: 'internal', exit: 1, message: 'internal error: x is undefined', hint: expect.stringContaining('-v'), object: null });
  });

  it('is one line, so it can be read as the last line of stderr', () => {
    expect(formatJsonError(new UsageError('a\nb'))).toMatch(/^\{[^\n]*\}\n$/);
  });

  it('the schema rejects an exit that does not match the code, and unknown keys', () => {
    expect(() => assertSchema('error', { error: { code: 'usage', exit: 3, message: 'm', hint: null, object: null } })).toThrow(/exit/);
    expect(() => assertSchema('error', { error: { code: 'usage', exit: 2, message: 'm', hint: null, object: null, extra: 1 } })).toThrow(/additional/);
    expect(() => assertSchema('error', { error: { code: 'partial', exit: 8, message: 'm', hint: null, object: null } })).toThrow(/leftovers/);
  });
});

describe('-o json is read before commander parses', () => {
  it.each<[string[], boolean]>([
    [['-o', 'json', 'vm', 'list'], true],
    [['vm', 'list', '-ojson'], true],
    [['vm', 'list', '--output', 'json'], true],
    [['vm', 'list', '--output=json'], true],
    [['-qo', 'json', 'vm', 'list'], true],
    [['-vojson', 'vm', 'list'], true],
    [['-co', 'json', 'vm', 'list'], false],
    [['--output'], false],
    [['-o', 'json', 'vm', 'list', '-o', 'table'], false],
    [['vm', 'list'], false],
    [['vm', 'create', 'x', '--', '-o', 'json'], false],
  ])('%j -> %s', (argv, json) => expect(wantsJson(argv)).toBe(json));
});

describe('errors under -o json, through main', () => {
  it.each<[string[], RegExp, string]>([
    [['frobnicate'], /^kvmctl: unknown command 'frobnicate'/, 'kvmctl --help'],
    [['host', '--bogus'], /^kvmctl host: unknown option '--bogus'/, 'kvmctl host --help'],
    [['vm', 'start'], /^kvmctl vm start: missing required argument 'name'/, 'kvmctl vm start --help'],
    [['vm'], /^kvmctl vm: missing command \(one of: create, list, /, 'kvmctl vm --help'],
    [['pool', 'create', 'p', '--bogus'], /unknown option '--bogus'/, 'kvmctl pool create --help'],
  ])('usage error %j: exit 2, one error object on stderr, nothing on stdout, nothing run', async (argv, message, help) => {
    const r = await run(['-o', 'json', ...argv]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    const { error } = parseJsonError(r.err);
    expect(error).toMatchObject({ code: 'usage', exit: 2, object: null, hint: `for usage, run: ${help}` });
    expect(error.message).toMatch(message);
    expect(r.runner.calls).toEqual([]);
  });

  it('a bad value kvmctl itself rejects (malformed URI) is the same object', async () => {
    const r = await run(['-o', 'json', '-c', 'not a uri', 'host']);
    expect(r.code).toBe(2);
    expect(parseJsonError(r.err).error).toMatchObject({ code: 'usage', exit: 2, message: 'malformed libvirt URI "not a uri" (from --connect)' });
    expect(r.runner.calls).toEqual([]);
  });

  it('a VM libvirt does not know is not-found, exit 3, naming the VM', async () => {
    const runner = new FakeRunner().stub((c) => c.program === 'virsh', { exitCode: 1, stderr: "error: failed to get domain 'ghost'\n" }, Infinity);
    const r = await run(['-o', 'json', 'vm', 'info', 'ghost'], runner);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    const { error } = parseJsonError(r.err);
    expect(error).toMatchObject({ code: 'not-found', exit: 3, object: { kind: 'vm', name: 'ghost' } });
    expect(error.message).toContain('VM "ghost" not found');
    expect(error.hint).toContain('kvmctl vm list');
  });

  it('a defect is code internal with exit 1', async () => {
    // The fake throws a plain Error on any command it was not told about.
    const r = await run(['-o', 'json', 'vm', 'info', 'ghost']);
    expect(r.code).toBe(1);
    expect(parseJsonError(r.err).error).toMatchObject({ code: 'internal', exit: 1 });
  });

  it.each<[string[]]>([[['vm', 'create', 'w', '--memory', '2048']], [['vm', 'set', 'w', '--memory', '2048']]])(
    '%j: a bare number is bytes, and the hint gives the MiB it likely meant',
    async (argv) => {
      const r = await run(['-o', 'json', ...argv]);
      expect(r.code).toBe(2);
      expect(parseJsonError(r.err).error).toMatchObject({
        code: 'usage',
        message: '--memory 2048: that is 2048 bytes (a number without a unit is bytes); at least 16M is needed',
        hint: 'give a unit; for 2048 MiB: --memory 2048M',
      });
      expect(r.runner.calls).toEqual([]);
    },
  );

  it('text mode stays text; a noun without a verb is exit 2 (bad usage), not 1', async () => {
    const r = await run(['vm']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: kvmctl vm /);
    const t = await run(['host', '--bogus']);
    expect(t.err).toMatch(/^kvmctl: unknown option '--bogus'\n/);
    expect(t.err).not.toContain('{');
  });
});
