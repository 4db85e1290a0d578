/**
 * The hosts inventory on real files: each test gets a fresh temporary folder
 * (`folder.dir`, inventory at `folder.file`) and runs kvmctl with
 * KVMCTL_HOSTS pointing there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { main } from '../../../../src/main.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { memoryIO } from '../../../../src/output/io.js';
import { memoryFs } from '../../../../src/local-fs.js';

export const folder = { dir: '', file: '' };

beforeEach(() => {
  folder.dir = mkdtempSync(join(tmpdir(), 'kvmctl-inv-'));
  folder.file = join(folder.dir, 'hosts.yaml');
});
afterEach(() => rmSync(folder.dir, { recursive: true, force: true }));

export async function kvmctl(args: string[], runner = new FakeRunner(), env: Record<string, string> = { KVMCTL_HOSTS: folder.file }) {
  const io = memoryIO({ PATH: '/usr/bin', KVMCTL_STATE_DIR: join(folder.dir, 'state'), ...env });
  const code = await main(['node', 'kvmctl', ...args], { io, runner, fs: memoryFs({}), version: '0', signal: new AbortController().signal, argv: [] });
  return { code, out: io.out, err: io.err, runner };
}
