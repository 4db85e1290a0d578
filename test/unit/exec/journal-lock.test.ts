import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { abandonedEntries, Journal } from '../../../src/exec/journal.js';
import { withLock } from '../../../src/exec/lock.js';
import { Transaction } from '../../../src/exec/transaction.js';
import { TimeoutError } from '../../../src/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kvmctl-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('journal', () => {
  it('holds what a transaction created while it runs, and nothing after it ends', async () => {
    const dir = tempDir();
    const journal = new Journal(dir, ['vm', 'create', 'web1']);
    let during: string[] = [];
    await new Transaction('vm create web1', { journal }).run(async (tx) => {
      tx.onRollback({ what: 'volume p/web1.qcow2', manual: 'virsh vol-delete --pool p --vol web1.qcow2', run: async () => undefined });
      during = readdirSync(join(dir, 'journal'));
    });
    expect(during).toHaveLength(1);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it('reports entries whose process is gone, with what they left', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'journal'));
    // pid 2^22+1 is above Linux's pid_max limit, so no such process exists.
    const dead = { pid: 4194305, startedAt: '2026-01-01T00:00:00.000Z', operation: 'vm create web1', argv: [], leftovers: [{ what: 'volume p/x', manual: 'virsh vol-delete --pool p --vol x' }] };
    writeFileSync(join(dir, 'journal', 'dead.json'), JSON.stringify(dead));
    writeFileSync(join(dir, 'journal', 'live.json'), JSON.stringify({ ...dead, pid: process.pid }));
    const found = await abandonedEntries(dir);
    expect(found.map((e) => e.operation)).toEqual(['vm create web1']);
    expect(found[0]?.leftovers[0]?.manual).toBe('virsh vol-delete --pool p --vol x');
  });
});

describe('withLock', () => {
  it('serialises holders of the same key', async () => {
    const dir = tempDir();
    const order: string[] = [];
    const slow = (tag: string) => async () => {
      order.push(`${tag}+`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`${tag}-`);
    };
    await Promise.all([withLock('vm a', { dir }, slow('1')), withLock('vm a', { dir }, slow('2'))]);
    expect(order.join(' ')).toMatch(/^(1\+ 1- 2\+ 2-|2\+ 2- 1\+ 1-)$/);
  });

  it('takes over a lock whose owner died, and times out on a live one', async () => {
    const dir = tempDir();
    await withLock('vm b', { dir }, async () => {
      await expect(withLock('vm b', { dir, timeoutMs: 100 }, async () => 1)).rejects.toThrow(TimeoutError);
    });
    mkdirSync(join(dir, 'locks'), { recursive: true });
    for (const f of readdirSync(join(dir, 'locks'))) rmSync(join(dir, 'locks', f));
    // A stale lock file from a killed process.
    const { createHash } = await import('node:crypto');
    writeFileSync(join(dir, 'locks', createHash('sha256').update('vm c').digest('hex').slice(0, 32) + '.lock'), '4194305\nvm c\n');
    expect(await withLock('vm c', { dir, timeoutMs: 500 }, async () => 'got it')).toBe('got it');
  });
});
