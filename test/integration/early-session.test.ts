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
  const { dir, bin, tmp, log } = wrapped();
  const r = spawnSync(process.execPath, [resolve('bin/kvmctl'), '-c', DEFAULT_URI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: runEnv(dir, bin, tmp),
  });
  return { code: r.status, out: r.stdout, err: r.stderr, starts: readFileSync(log, 'utf8').split('\n').filter(Boolean), left: readdirSync(tmp) };
}

/** A run's directory: a bin/ with the logging virsh (which also logs its pid), an empty tmp/, the log. */
function wrapped() {
  const dir = mkdtempSync(join(scratch, 'run-'));
  const bin = join(dir, 'bin');
  const tmp = join(dir, 'tmp');
  mkdirSync(bin);
  mkdirSync(tmp);
  const log = join(dir, 'virsh.log');
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\necho $$ > '${log}.pid'\nexec '${realVirsh}' "$@"\n`);
  chmodSync(join(bin, 'virsh'), 0o755);
  writeFileSync(log, '');
  return { dir, bin, tmp, log };
}

function runEnv(dir: string, bin: string, tmp: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp, KVMCTL_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', LC_ALL: 'C', KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' };
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

  it('a signal before the bundle has loaded stops it and removes its directory, and the run dies of the signal', () => {
    const { dir, bin, tmp, log } = wrapped();
    // What bin/kvmctl does before loading the bundle; then the signal, while no handler of kvmctl's exists yet.
    const script = `
      const early = require(${JSON.stringify(resolve('dist/early.cjs'))}).startEarlySession(['node', 'kvmctl', '-c', ${JSON.stringify(DEFAULT_URI)}, 'vm', 'list'], process.env);
      if (!early) process.exit(3);
      const fs = require('node:fs');
      const wait = () => (fs.existsSync(${JSON.stringify(log + '.pid')}) ? process.kill(process.pid, 'SIGHUP') : setTimeout(wait, 10));
      wait();
      setTimeout(() => process.exit(4), 30000);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: runEnv(dir, bin, tmp) });
    expect(r.status).toBeNull();
    expect(r.signal).toBe('SIGHUP');
    expect(readFileSync(log, 'utf8')).toBe(`-c ${DEFAULT_URI}\n`);
    const pid = Number(readFileSync(log + '.pid', 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(readdirSync(tmp)).toEqual([]);
    // The virsh it started was sent SIGTERM; it is gone (or a zombie of nobody's until reaped) once it has handled it.
    const alive = () => {
      try {
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 500 && alive(); i++) spawnSync('sleep', ['0.01']);
    expect(alive()).toBe(false);
  });
});
