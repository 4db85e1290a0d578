/**
 * vm migrate's pre-check reads both hosts within --host-timeout: a target whose
 * socket accepts but never answers (a stopped daemon looks the same to virsh)
 * is refused with nothing moved, its virsh stopped, instead of holding kvmctl
 * for ever. Real virsh; the source is libvirt's test driver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_URI, kvmctl } from './kvmctl.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmctl-hung-'));
const socket = join(dir, 'libvirt-sock');
const target = `qemu+unix:///system?socket=${socket}`;
let server: ChildProcess;

beforeAll(async () => {
  // Accepts every connection and never says a word.
  server = spawn(process.execPath, ['-e', `require('node:net').createServer(() => {}).listen(${JSON.stringify(socket)})`], { stdio: 'ignore' });
  for (let i = 0; i < 500 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
});
afterAll(() => {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** The pids of programs whose command line names the hung socket, besides its server. */
function programsOnSocket(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== server.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(socket) && !readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('vm migrate to a target that never answers', () => {
  it('is refused after --host-timeout (exit 5, nothing moved), names the host and the way out, and leaves no virsh behind', () => {
    expect(existsSync(socket)).toBe(true);
    const r = kvmctl(DEFAULT_URI, '--host-timeout', '2', 'vm', 'migrate', 'test', '--to', target);
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      `kvmctl: error: vm migrate test to ${target} refused, nothing was moved: ${target} gave the pre-check no answer within 2 s; its programs were stopped\n` +
        `hint: check it with: kvmctl -c '${target}' host; --host-timeout SECONDS gives the pre-check longer\n`,
    );
    expect(r.out).toBe('');
    expect(programsOnSocket()).toEqual([]);
  });
});
