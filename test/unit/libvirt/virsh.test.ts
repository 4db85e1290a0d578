import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BATCH_ARG_BYTES, chunkBatch, classifyVirshError, quoteForVirsh, runVirshBatch, splitBatch, virshBatch } from '../../../src/libvirt/virsh.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { readCommand } from '../../../src/exec/command.js';
import { ConflictError, KvmctlError, NotFoundError, RefusedError } from '../../../src/errors.js';

const rec = (f: string) => readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const failed = (stderr: string) => ({ stdout: '', stderr, exitCode: 1 });
const cmd = readCommand('virsh', ['-c', 'qemu:///system', 'dominfo', '--domain', 'nosuch']);

describe('virsh batches', () => {
  it("single-quotes every word the way virsh's parser reads it", () => {
    // The same form `virsh echo --shell` prints (batch-echo-shell-quoting.txt).
    expect(quoteForVirsh("fx'quote")).toBe(`'fx'\\''quote'`);
    expect(quoteForVirsh('a;b # c')).toBe(`'a;b # c'`);
  });

  it('passes the whole batch as the last, single argument', () => {
    const c = virshBatch('qemu:///system', [['dumpxml', '--domain', 'a;b'], ['dumpxml', '--domain', 'x y']]);
    expect(c.args).toHaveLength(3);
    expect(c.args[2]).toBe(`'dumpxml' '--domain' 'a;b' ; echo KVMCTL-BATCH-SEPARATOR-d41d8cd9 ; 'dumpxml' '--domain' 'x y'`);
    expect(c.mutates).toBe(false);
  });

  it('splits the recorded host batch into its six outputs', () => {
    const parts = splitBatch(rec('virsh-host-batch.txt'), 6);
    expect(parts[0]).toMatch(/^Compiled against library/);
    expect(parts[1]).toMatch(/^<capabilities>/);
    expect(parts[3]).toMatch(/^Domain: /);
    expect(parts[5]?.trim()).toBe('fx-pool');
  });
});

/** What virsh prints for a batch line: each command's output, `echo SEP` between them. */
function answerBatch(cmd: { args: string[] }): { stdout: string } {
  const line = cmd.args[2] ?? '';
  const names = [...line.matchAll(/'--vol' '([^']*)'/g)].map((m) => m[1]);
  return { stdout: names.map((n) => `<volume><name>${n}</name></volume>\n`).join('KVMCTL-BATCH-SEPARATOR-d41d8cd9\n') };
}

describe('virsh batches split by argument size', () => {
  // 5000 lookups of ~90 bytes each: about 450 KiB, far over one argument's 128 KiB.
  const lookups = Array.from({ length: 5000 }, (_, i) => ['vol-dumpxml', '--pool', 'big-pool', '--vol', `vol-${String(i).padStart(5, '0')}.qcow2`]);

  it('keeps every batch argument under the limit, and the limit under MAX_ARG_STRLEN', () => {
    expect(BATCH_ARG_BYTES).toBeLessThan(131072);
    const chunks = chunkBatch(lookups);
    expect(chunks.length).toBeGreaterThan(1);
    // Few processes: each batch is filled close to the limit, not one per command.
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(virshBatch('u', lookups).args[2] ?? '') / BATCH_ARG_BYTES) + 1);
    for (const c of chunks) expect(Buffer.byteLength(virshBatch('u', c).args[2] ?? '')).toBeLessThanOrEqual(BATCH_ARG_BYTES);
    expect(chunks.flat()).toEqual(lookups);
  });

  it('counts bytes, not UTF-16 units, for names outside ASCII', () => {
    const wide = Array.from({ length: 100 }, (_, i) => ['vol-dumpxml', '--pool', 'p', '--vol', `${'\u00e9'.repeat(200)}${i}`]);
    for (const c of chunkBatch(wide, { bytes: 4096 })) expect(Buffer.byteLength(virshBatch('u', c).args[2] ?? '')).toBeLessThanOrEqual(4096);
  });

  it('also cuts by command count when asked (for progress)', () => {
    expect(chunkBatch(lookups.slice(0, 450), { commands: 200 }).map((c) => c.length)).toEqual([200, 200, 50]);
  });

  it('refuses one command longer than an argument may be, naming it, before running anything', () => {
    expect(() => chunkBatch([['vol-dumpxml', '--vol', 'x'.repeat(200_000)]])).toThrow(KvmctlError);
    expect(() => chunkBatch([['vol-dumpxml', '--vol', 'x'.repeat(200_000)]])).toThrow(/vol-dumpxml\) is 2000\d\d bytes long/);
  });

  it('runs one virsh process per chunk and hands back every output in order', async () => {
    const runner = new FakeRunner().stub((c) => c.program === 'virsh', answerBatch, Infinity);
    const progress: number[] = [];
    const { outputs } = await runVirshBatch(runner, 'qemu:///system', lookups, { onProgress: (done) => progress.push(done) });
    expect(runner.calls.length).toBe(chunkBatch(lookups).length);
    expect(runner.calls.every((c) => c.args.length === 3 && !c.mutates)).toBe(true);
    expect(outputs).toHaveLength(5000);
    expect(outputs[0]).toContain('vol-00000.qcow2');
    expect(outputs[4999]).toContain('vol-04999.qcow2');
    expect(outputs.every((o, i) => o.includes(`vol-${String(i).padStart(5, '0')}.qcow2`))).toBe(true);
    expect(progress[progress.length - 1]).toBe(5000);
  });

  it('marks a batch of changes as mutating, so --dry-run skips it', async () => {
    const runner = new FakeRunner().stub((c) => c.program === 'virsh', { stdout: 'Vol a deleted\n\n' });
    await runVirshBatch(runner, 'qemu:///system', [['vol-delete', '--pool', 'p', '--vol', 'a']], { mutates: true });
    expect(runner.calls[0]?.mutates).toBe(true);
  });
});

describe('classifyVirshError (recorded libvirt 9 messages)', () => {
  it.each([
    ['err-virsh-dominfo-nosuch.stderr', 'vm', /^VM "nosuch" not found/, /kvmctl vm list/],
    ['err-virsh-pool-info-nosuch.stderr', 'pool', /^storage pool "nosuch" not found/, /kvmctl pool list/],
    ['err-virsh-vol-info-nosuch.stderr', 'volume', /^volume "nosuch" not found/, /kvmctl volume list/],
    ['err-virsh-net-info-nosuch.stderr', 'network', /^network "nosuch" not found/, /kvmctl net list/],
  ] as const)('%s is not found (exit 3) naming the object', (file, kind, message, hint) => {
    const e = classifyVirshError(cmd, failed(rec(file)), { kind, name: 'nosuch' }, 'qemu:///system');
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
  });

  it('a duplicate define is a conflict (exit 4)', () => {
    const e = classifyVirshError(cmd, failed(rec('err-virsh-define-duplicate.stderr')), { kind: 'vm', name: 'fx-off' }, 'qemu:///system');
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.message).toMatch(/^VM "fx-off": operation failed: domain 'fx-off' already exists/);
  });

  it('an unreachable daemon is refused (exit 5) with the URI and how to start it', () => {
    const e = classifyVirshError(cmd, failed(rec('err-virsh-unreachable.stderr')), undefined, 'qemu+unix:///system?socket=/x');
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.message).toMatch(/^cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=\/x \(/);
    expect(e.hint).toMatch(/systemctl start libvirtd/);
  });
});
