/**
 * bin/kvmctl starts vm list's virsh session (and volume list's first two
 * batches) before it loads the bundle: against
 * real virsh and libvirt's test driver, the run uses that one process, and a run
 * that never asks for it (a usage error) stops it and leaves no directory behind.
 * The early process is given vm list's first round at once: the run reads that
 * round's answer from it, and a first round that differs leaves it unclaimed.
 * A wrapper on PATH logs each virsh start, then runs the real virsh.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_URI, HOST_URI, kvmctl } from './kvmctl.js';
import { earlyFirstRound } from '../../src/early.js';
import { startEarly } from '../../src/exec/early-start.js';
import { RealRunner } from '../../src/exec/real-runner.js';
import { Virsh } from '../../src/libvirt/virsh-client.js';
import { roundInput, sessionCommand } from '../../src/libvirt/virsh-session.js';
import { vmListFirstRound } from '../../src/libvirt/vm-list-round.js';

const scratch = mkdtempSync(join(tmpdir(), 'kvmctl-early-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const realVirsh = spawnSync('sh', ['-c', 'command -v virsh'], { encoding: 'utf8' }).stdout.trim();

/** Runs bin/kvmctl with a logging virsh first on PATH and TMPDIR of its own; returns the run, the virsh starts and what TMPDIR holds after. */
function traced(...args: string[]) {
  return tracedAt(DEFAULT_URI, ...args);
}

function tracedAt(uri: string, ...args: string[]) {
  const { dir, bin, tmp, log } = wrapped();
  const r = spawnSync(process.execPath, [resolve('bin/kvmctl'), '-c', uri, ...args], {
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
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\necho $$ >> '${log}.pid'\nexec '${realVirsh}' "$@"\n`);
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
    const r = traced('vm', 'list', '-o', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown output format "bogus"/);
    expect(r.out).toBe('');
    // It was started (before the bundle could know the format is wrong), then stopped.
    expect(r.starts).toEqual([`-c ${DEFAULT_URI}`]);
    expect(r.left).toEqual([]);
    // A state vm list refuses starts nothing at all.
    const state = traced('vm', 'list', '--state', 'bogus');
    expect(state.code).toBe(2);
    expect(state.err).toContain('--state "bogus": expected running, shutoff, paused');
    expect(state.starts).toEqual([]);
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

  it.each([
    ['SIGHUP', 'vm list', DEFAULT_URI, ['vm', 'list']],
    ['SIGQUIT', 'vm list', DEFAULT_URI, ['vm', 'list']],
    ['SIGINT', 'volume list', HOST_URI, ['volume', 'list', '--pool', 'images']],
    ['SIGQUIT', 'volume list', HOST_URI, ['volume', 'list', '--pool', 'images']],
  ] as const)('%s before the bundle has loaded stops what %s started early, removes its directory, and the run dies of it', (sig, _what, uri, words) => {
    const { dir, bin, tmp, log } = wrapped();
    const expected = words[0] === 'vm' ? 1 : 2;
    // What bin/kvmctl does before loading the bundle; then the signal, while no handler of kvmctl's exists yet.
    const script = `
      const early = require(${JSON.stringify(resolve('dist/early.cjs'))}).startEarlyProcesses(['node', 'kvmctl', '-c', ${JSON.stringify(uri)}, ...${JSON.stringify(words)}], process.env);
      if (!early) process.exit(3);
      const fs = require('node:fs');
      const started = () => fs.existsSync(${JSON.stringify(log + '.pid')}) && fs.readFileSync(${JSON.stringify(log + '.pid')}, 'utf8').split('\\n').filter(Boolean).length >= ${expected};
      const wait = () => (started() ? process.kill(process.pid, ${JSON.stringify(sig)}) : setTimeout(wait, 10));
      wait();
      setTimeout(() => process.exit(4), 30000);
    `;
    // No core file of the SIGQUIT (its default action), in a directory of the test's own.
    const r = spawnSync('sh', ['-c', 'ulimit -c 0; exec "$0" -e "$1"', process.execPath, script], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: runEnv(dir, bin, tmp) });
    expect(r.status).toBeNull();
    expect(r.signal).toBe(sig);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toHaveLength(expected);
    const pids = readFileSync(log + '.pid', 'utf8').split('\n').filter(Boolean).map(Number);
    expect(pids).toHaveLength(expected);
    expect(readdirSync(tmp)).toEqual([]);
    // The virsh it started was sent SIGTERM; it is gone (or a zombie of nobody's until reaped) once it has handled it.
    const alive = (pid: number) => {
      try {
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    };
    for (const pid of pids) {
      expect(pid).toBeGreaterThan(1);
      for (let i = 0; i < 500 && alive(pid); i++) spawnSync('sleep', ['0.01']);
      expect(alive(pid)).toBe(false);
    }
  });

  it('release stops a real session nobody claimed, and removes its directory', () => {
    const { dir, bin, tmp, log } = wrapped();
    const script = `
      const early = require(${JSON.stringify(resolve('dist/early.cjs'))}).startEarlyProcesses(['node', 'kvmctl', '-c', ${JSON.stringify(DEFAULT_URI)}, 'vm', 'list'], process.env);
      if (!early) process.exit(3);
      const fs = require('node:fs');
      const wait = () => (fs.existsSync(${JSON.stringify(log + '.pid')}) ? early.release().then(() => process.exit(fs.readdirSync(${JSON.stringify(tmp)}).length === 0 ? 0 : 5)) : setTimeout(wait, 10));
      wait();
      setTimeout(() => process.exit(4), 30000);
    `;
    // Its private directory exists while it runs: the script exits 5 when release left it.
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: runEnv(dir, bin, tmp) });
    expect(r.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`-c ${DEFAULT_URI}\n`);
    const pid = Number(readFileSync(log + '.pid', 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('was given the first round at once: -v shows that round sent once, and table, -o json and -v output are what they always were', () => {
    for (const args of [['vm', 'list'], ['-o', 'json', 'vm', 'list'], ['-v', 'vm', 'list']]) {
      const r = traced(...args);
      expect(r.code).toBe(0);
      expect(r.starts).toEqual([`-c ${DEFAULT_URI}`]);
      expect(r.left).toEqual([]);
      const plain = kvmctl(DEFAULT_URI, ...args);
      expect(r.out).toBe(plain.out);
      const token = /KVMCTL-[0-9a-f]{24}/g;
      expect(r.err.replace(token, 'TOKEN')).toBe(plain.err.replace(token, 'TOKEN'));
    }
    const v = traced('-v', 'vm', 'list');
    expect(v.err.match(/^< echo '[^']+'-'B0' ; 'domstats' /gm)).toHaveLength(1);
  });

  it("the session that sends that round reads virsh's answer to it from the early process; another round does not claim it", async () => {
    const cmd = sessionCommand(DEFAULT_URI);
    const early = startEarly(cmd, earlyFirstRound(undefined));
    const first = await new Virsh(new RealRunner(undefined, undefined, early), DEFAULT_URI).session((s) => s.round(vmListFirstRound(undefined)));
    expect(first.out.stats).toMatch(/^Domain: 'test'\n {2}state\.state=1\n/);
    expect(first.out.autostart.trim()).toBe('');
    expect(first.out.networks).toMatch(/^ Name +State +Autostart +Persistent\n/);
    expect(first.stderr).toBe('');
    // Claimed: nothing is left to stop.
    expect(early.claim(cmd, () => '')).toBeUndefined();
    await early.release();

    const other = startEarly(cmd, earlyFirstRound(undefined));
    const running = await new Virsh(new RealRunner(undefined, undefined, other), DEFAULT_URI).session((s) => s.round(vmListFirstRound('running')));
    expect(running.out.stats).toMatch(/^Domain: 'test'\n/);
    // Its own process answered: the early one still waits, given the plain round.
    const written = earlyFirstRound(undefined);
    const left = other.claim(cmd, (token) => roundInput(Object.values(vmListFirstRound(undefined)).map((c) => c.words), token, 0));
    expect(left?.written?.input.split(left.written.token).join(written.token)).toBe(written.input);
    left!.child.kill('SIGTERM');
    await new Promise((r) => left!.child.once('close', r));
    for (const d of Object.values(left!.dirs)) rmSync(d, { recursive: true, force: true });
    await other.release();
  });
});

describe('the batches volume list starts early', () => {
  const batch = (words: string[][]) => `-c ${HOST_URI} ${words.map((w) => w.map((x) => `'${x}'`).join(' ')).join(' ; echo KVMCTL-BATCH-SEPARATOR-d41d8cd9 ; ')}`;
  const disks = batch([['domstats', '--raw', '--state', '--block', '--backing'], ['list', '--all', '--autostart', '--name']]);

  it('are the first two virsh of the run, and the output is what it always was', () => {
    for (const [args, first] of [
      [['volume', 'list', '--pool', 'images'], batch([['pool-info', '--pool', 'images'], ['pool-dumpxml', '--pool', 'images'], ['vol-list', '--pool', 'images']])],
      [['volume', 'list', '-o', 'json'], batch([['pool-list', '--all', '--name']])],
    ] as const) {
      const r = tracedAt(HOST_URI, ...args);
      expect(r.code).toBe(0);
      expect(r.starts.slice(0, 2).sort()).toEqual([first, disks].sort());
      // Claimed, not run again.
      expect(r.starts.filter((s) => s === first)).toHaveLength(1);
      expect(r.starts.filter((s) => s === disks)).toHaveLength(1);
      expect(r.out).toBe(kvmctl(HOST_URI, ...args).out);
      expect(r.left).toEqual([]);
    }
    const table = tracedAt(HOST_URI, 'volume', 'list', '--pool', 'images');
    expect(table.out).toMatch(/^POOL +NAME .*\nimages +db1\.raw +raw .*\nimages +web1\.qcow2 +qcow2 /);
  });

  it('are started by dist/early.cjs alone, before any of the bundle is loaded; release stops them and removes nothing of theirs', () => {
    const { dir, bin, tmp, log } = wrapped();
    const script = `
      const early = require(${JSON.stringify(resolve('dist/early.cjs'))}).startEarlyProcesses(['node', 'kvmctl', '-c', ${JSON.stringify(HOST_URI)}, 'volume', 'list', '--pool', 'images'], process.env);
      if (!early) process.exit(3);
      const fs = require('node:fs');
      const wait = () => (fs.readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').length > 2 ? early.release().then(() => process.exit(0)) : setTimeout(wait, 10));
      wait();
      setTimeout(() => process.exit(4), 30000);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: runEnv(dir, bin, tmp) });
    expect(r.status).toBe(0);
    const pools = batch([['pool-info', '--pool', 'images'], ['pool-dumpxml', '--pool', 'images'], ['vol-list', '--pool', 'images']]);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual([pools, disks].sort());
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a run that fails before asking for them stops them: usage error, exit 2, nothing left in TMPDIR', () => {
    const r = tracedAt(HOST_URI, 'volume', 'list', '--pool', 'images', '-o', 'bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown output format "bogus"/);
    expect(r.out).toBe('');
    expect(r.starts).toHaveLength(2);
    expect(r.left).toEqual([]);
  });
});
