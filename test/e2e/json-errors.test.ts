/**
 * Errors under -o json against the lab host: every exit code a script can meet
 * is one object on the last line of stderr, valid against schemas/error.schema.json,
 * with nothing on stdout and the host as it was before (usage errors included).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliOk, lab, newStateDir, removeStateDirs, snapshotHost, start, virsh, type CliOptions } from './reliability/harness.js';
import { parseJsonError } from '../support/schemas.js';

const PREFIX = 'e2e-je';
const POOL = `${PREFIX}-pool`;
const NEW_POOL = `${PREFIX}-new`;
/** A shut-off VM defined with virsh itself: no disk, never started. */
const VM = `${PREFIX}-off`;
const poolDir = (name: string) => join(lab.dir, 'pools', name);
let o: CliOptions;

/** libvirt's domains, pools and volumes and the test's pool folders. */
const state = () => snapshotHost({ dirs: [poolDir(POOL), poolDir(NEW_POOL)], netns: '' });

function cleanup(): void {
  virsh('undefine', '--domain', VM);
  for (const p of [POOL, NEW_POOL]) {
    virsh('pool-destroy', '--pool', p);
    virsh('pool-undefine', '--pool', p);
    rmSync(poolDir(p), { recursive: true, force: true });
  }
}

/** Runs args with -o json; expects exit `exit`, an empty stdout and an unchanged host; returns the error. */
async function failsWith(args: string[], exit: number, extra: Partial<CliOptions> = {}) {
  const before = state();
  const r = await cli(['-o', 'json', ...args], { ...o, ...extra });
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stdout).toBe('');
  expect(state()).toEqual(before);
  const { error } = parseJsonError(r.stderr);
  expect(error.exit).toBe(exit);
  return error;
}

describe('errors under -o json (lab)', () => {
  beforeAll(async () => {
    cleanup();
    o = { stateDir: newStateDir() };
    await cliOk(['pool', 'create', POOL, '--path', poolDir(POOL)], o);
    const xml = join(o.stateDir, 'vm.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${VM}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`);
    expect(virsh('define', '--file', xml).code).toBe(0);
  });
  afterAll(() => {
    cleanup();
    removeStateDirs();
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown command', ['frobnicate'], /^kvmctl: unknown command 'frobnicate'/],
    ['an unknown option', ['pool', 'list', '--bogus'], /^kvmctl pool list: unknown option '--bogus'/],
    ['a missing argument', ['vm', 'start'], /^kvmctl vm start: missing required argument 'name'/],
    ['a noun without a verb', ['vm'], /^kvmctl vm: missing command \(one of: create, list/],
    ['a value kvmctl rejects', ['vm', 'create', `${PREFIX}-vm`, '--memory', '2048'], /^--memory 2048: that is 2048 bytes \(a number without a unit is bytes\); at least 16M is needed$/],
  ])('exit 2 (usage) for %s', async (_what, args, message) => {
    const error = await failsWith(args, 2);
    expect(error.code).toBe('usage');
    expect(error.message).toMatch(message);
    expect(error.hint).not.toBeNull();
  });

  it('exit 3 (not-found) names the VM, and the hint lists what exists', async () => {
    const error = await failsWith(['vm', 'info', `${PREFIX}-ghost`], 3);
    expect(error).toMatchObject({ code: 'not-found', object: { kind: 'vm', name: `${PREFIX}-ghost` }, hint: expect.stringMatching(/^list what exists with: kvmctl -c \S+ vm list$/) });
    expect(error.message).toMatch(/^VM "e2e-je-ghost" not found/);
  });

  it('exit 3 (not-found) for a pool', async () => {
    const error = await failsWith(['pool', 'info', `${PREFIX}-ghost`], 3);
    expect(error).toMatchObject({ code: 'not-found', object: { kind: 'pool', name: `${PREFIX}-ghost` } });
  });

  it('exit 4 (conflict): the pool exists with another path', async () => {
    const error = await failsWith(['pool', 'create', POOL, '--path', poolDir(NEW_POOL)], 4);
    expect(error).toMatchObject({ code: 'conflict', object: { kind: 'pool', name: POOL } });
    expect(error.message).toContain('already exists with another definition');
  });

  it('exit 5 (refused): a volume of an inactive pool', async () => {
    await cliOk(['pool', 'stop', POOL], o);
    try {
      const error = await failsWith(['volume', 'info', `${POOL}/x.qcow2`], 5);
      expect(error).toMatchObject({ code: 'refused', object: { kind: 'pool', name: POOL }, hint: expect.stringMatching(new RegExp(`^start it with: kvmctl -c \\S+ pool start ${POOL}$`)) });
    } finally {
      await cliOk(['pool', 'start', POOL], o);
    }
  });

  it('exit 5 (refused): waiting for the address of a VM that is shut off, naming the VM', async () => {
    const error = await failsWith(['vm', 'wait', VM, '--for', 'ip', '--timeout', '5'], 5);
    expect(error).toMatchObject({ code: 'refused', object: { kind: 'vm', name: VM }, hint: expect.stringMatching(new RegExp(`^start it first: kvmctl -c \\S+ vm start ${VM} \\(or see why it stopped: kvmctl -c \\S+ vm log ${VM}\\)$`)) });
  });

  it('exit 6 (timeout): waiting for a shut-off VM to run, naming the VM', async () => {
    const error = await failsWith(['vm', 'wait', VM, '--for', 'running', '--timeout', '1'], 6);
    expect(error).toMatchObject({ code: 'timeout', object: { kind: 'vm', name: VM }, hint: expect.stringMatching(new RegExp(`^start it with: kvmctl -c \\S+ vm start ${VM}$`)) });
    expect(error.message).toMatch(new RegExp(`^timed out after 1 s waiting for VM "${VM}" to be running \\(it is shut ?off`));
  });

  it('exit 1 (failure): a step that fails on its own', async () => {
    const error = await failsWith(['pool', 'stop', POOL], 1, { fault: 'fail:1' });
    expect(error).toMatchObject({ code: 'failure', object: { kind: 'pool', name: POOL } });
    expect(error.message).toMatch(/pool-destroy failed: injected fault/);
  });

  it('exit 7 (rolled-back): a pool create whose second step fails leaves nothing', async () => {
    const error = await failsWith(['pool', 'create', NEW_POOL, '--path', poolDir(NEW_POOL)], 7, { fault: 'fail:2' });
    expect(error.code).toBe('rolled-back');
    expect(error.message).toMatch(/everything it had done was undone$/);
  });

  it('exit 8 (partial): the leftovers are in the object, and the command each names removes it', async () => {
    const r = await cli(['-o', 'json', 'pool', 'create', NEW_POOL, '--path', poolDir(NEW_POOL)], { ...o, fault: 'fail:2,fail:3' });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stdout).toBe('');
    const { error } = parseJsonError(r.stderr);
    expect(error.code).toBe('partial');
    expect(error.leftovers).toHaveLength(1);
    expect(error.leftovers![0]).toMatch(new RegExp(`^storage pool ${NEW_POOL} \\(definition\\) \\(remove with: virsh .* pool-undefine --pool ${NEW_POOL}\\)$`));
    expect(virsh('pool-info', '--pool', NEW_POOL).code).toBe(0);
    virsh('pool-undefine', '--pool', NEW_POOL);
    expect(virsh('pool-info', '--pool', NEW_POOL).code).not.toBe(0);
  });

  it('exit 130 (interrupted): SIGINT while a step is held', async () => {
    const before = state();
    const p = start(['-o', 'json', 'pool', 'create', NEW_POOL, '--path', poolDir(NEW_POOL)], { ...o, fault: 'hang:2' });
    await p.waitForStderr(/holding step 2 until interrupted/);
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe('');
    expect(state()).toEqual(before);
    expect(parseJsonError(r.stderr).error).toMatchObject({ code: 'interrupted', exit: 130 });
  });

  it('text mode is unchanged: no JSON on stderr', async () => {
    const r = await cli(['vm', 'info', `${PREFIX}-ghost`], o);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^kvmctl: error: VM "e2e-je-ghost" not found .*\nhint: list what exists with: kvmctl -c \S+ vm list\n$/);
  });
});
