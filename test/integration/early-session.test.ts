/**
 * bin/kvmctl starts vm list's virsh session before it loads the bundle: against
 * real virsh and libvirt's test driver, the run uses that one process, and a run
 * that never asks for it (a usage error) stops it and leaves no directory behind.
 * A wrapper on PATH logs each virsh start, then runs the real virsh.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_URI, kvmctl } from './kvmctl.js';

const scratch = mkdtempSync(join(tmpdir(), 'kvmctl-early-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const realVirsh = spawnSync('sh', ['-c', 'command -v virsh'], { encoding: 'utf8' }).stdout.trim();

/** Runs bin/kvmctl with a logging virsh first on PATH and TMPDIR of its own; returns the run, the virsh starts and what TMPDIR holds after. */
function traced(...args: string[]) {
  const dir = mkdtempSync(join(scratch, 'run-'));
  const bin = join(dir, 'bin');
  const tmp = join(dir, 'tmp');
  mkdirSync(bin);
  mkdirSync(tmp);
  const log = join(dir, 'virsh.log');
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realVirsh}' "$@"\n`);
  chmodSync(join(bin, 'virsh'), 0o755);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, [resolve('bin/kvmctl'), '-c', DEFAULT_URI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp, KVMCTL_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', LC_ALL: 'C', KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, starts: readFileSync(log, 'utf8').split('\n').filter(Boolean), left: readdirSync(tmp) };
}

describe('the session vm list starts early', () => {
  it('is the one virsh of the run, and the output is what it always was', () => {
    const r = traced('vm', 'list');
    expect(r.code).toBe(0);
    expect(r.starts).toEqual([`-c ${DEFAULT_URI}`]);
    expect(r.out).toBe(kvmctl(DEFAULT_URI, 'vm', 'list').out);
    expect(r.out).toMatch(/^NAME +STATE .*\ntest +running /);
    expect(r.left).toEqual([]);
  });

  it('a run that fails before asking for it stops it: usage error, exit 2, nothing left in TMPDIR', () => {
    const r = traced('vm', 'list', '--state', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--state "bogus": expected running, shutoff, paused');
    expect(r.out).toBe('');
    expect(r.left).toEqual([]);
  });

  it('other commands start no virsh before they need one', () => {
    const r = traced('vm', 'list', '--help');
    expect(r.code).toBe(0);
    expect(r.starts).toEqual([]);
    const names = traced('vm', 'list', '--name-only');
    expect(names.out).toBe('test\n');
    expect(names.starts).toHaveLength(1);
    expect(names.starts[0]).not.toBe(`-c ${DEFAULT_URI}`);
  });
});
