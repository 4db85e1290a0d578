import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyVirshError, quoteForVirsh, splitBatch, virshBatch } from '../../src/libvirt/virsh.js';
import { readCommand } from '../../src/exec/command.js';
import { ConflictError, NotFoundError, RefusedError } from '../../src/errors.js';

const rec = (f: string) => readFileSync(new URL(`../fixtures/recorded/${f}`, import.meta.url), 'utf8');
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
