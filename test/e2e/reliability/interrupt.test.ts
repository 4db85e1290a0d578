/**
 * Interruptions in the middle of multi-step operations, against the lab and a
 * test namespace. KVMCTL_FAULT=hang:K holds the K-th state-changing step
 * until a signal arrives (the steps before it have really run); then:
 * SIGINT or SIGTERM to the kvmctl process rolls back like a failure (exit
 * 130, host exactly as before); SIGKILL leaves a journal entry, every later
 * run warns, `host doctor` (table and -o json) names what is left and how to
 * remove it, and doing that plus `host doctor --clear` restores the host.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliOk, deleteNetns, inNs, journalFiles, lab, makeNetns, newStateDir, printTally, record, removeStateDirs, snapshotHost, start, virsh, type CliOptions, createPool, removePool } from './harness.js';
import { parseOutput } from '../../support/schemas.js';

const POOL = 'rel-int';
// Unique per run: network namespace names are machine-wide, and runs of other checkouts may overlap.
const NS = `rel-int-net-${process.pid.toString(36)}`;
const poolDir = () => join(lab.dir, 'pools', POOL);
const guestDisk = () => join(lab.guestDir, 'disk.qcow2');

const storageSnapshot = () => snapshotHost({ dirs: [poolDir()] });
const netSnapshot = (stateDir: string) => () => snapshotHost({ netns: NS, dirs: [join(stateDir, 'net')] });

function cleanup(): void {
  virsh('destroy', '--domain', 'rel-i-vm');
  virsh('undefine', '--domain', 'rel-i-vm');
  removePool(POOL, poolDir());
  deleteNetns(NS);
}

interface Op {
  name: string;
  args: string[];
  label: string;
  /** The step to hold: earlier steps have really run by then. */
  hold: number;
  /** How many things exist (and are journalled) while it holds. */
  made: number;
  netns?: string;
  snapshot: (stateDir: string) => () => ReturnType<typeof snapshotHost>;
}

const OPS: Op[] = [
  { name: 'vm create', args: ['vm', 'create', 'rel-i-vm', '--image', `${POOL}/base.qcow2`, '--hostname', 'rel-i-vm', '--memory', '128M', '--no-start'], label: 'vm create rel-i-vm', hold: 4, made: 2, snapshot: () => storageSnapshot },
  { name: 'volume import', args: ['volume', 'import', '--pool', POOL, '--name', 'imp.qcow2', '--', guestDisk()], label: `volume import ${POOL}/imp.qcow2`, hold: 3, made: 1, snapshot: () => storageSnapshot },
  { name: 'net nat enable', args: ['net', 'nat', 'enable', '--bridge', 'relint0', '--subnet', '10.83.0.0/24'], label: 'net nat enable --bridge relint0', hold: 3, made: 2, netns: NS, snapshot: netSnapshot },
];

describe('interrupted operations (against the lab and a test namespace)', () => {
  beforeAll(async () => {
    cleanup();
    const setup = { stateDir: newStateDir() };
    await createPool(POOL, poolDir(), setup);
    await cliOk(['volume', 'import', guestDisk(), '--pool', POOL, '--name', 'base.qcow2'], setup);
    makeNetns(NS);
    inNs(NS, ['ip', 'link', 'add', 'relint0', 'type', 'bridge'], ['ip', 'link', 'set', 'relint0', 'up'], ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  });
  afterAll(() => {
    cleanup();
    removeStateDirs();
    printTally();
  });

  const signalCases = OPS.flatMap((op) => (['SIGINT', 'SIGTERM'] as const).map((signal) => ({ op, signal })));
  it.each(signalCases)('$signal while $op.name holds a step: rolled back like a failure (exit 130), host as before', async ({ op, signal }) => {
    const o: CliOptions = { stateDir: newStateDir(), netns: op.netns, fault: `hang:${op.hold}` };
    const snapshot = op.snapshot(o.stateDir);
    const before = snapshot();
    const p = start(op.args, o);
    await p.waitForStderr(new RegExp(`holding step ${op.hold} until interrupted`));
    // The steps before it have run and are journalled.
    expect(journalFiles(o.stateDir)).toHaveLength(1);
    p.kill(signal);
    const r = await p.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(new RegExp(`^kvmctl: error: ${op.label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: interrupted; everything it had done was undone$`, 'm'));
    expect(snapshot()).toEqual(before);
    expect(journalFiles(o.stateDir)).toEqual([]);
    record('interrupt', op.name, `${signal} at step ${op.hold} (hang:${op.hold})`, 1);
  });

  it('SIGINT before anything was changed: exit 130, nothing to undo', async () => {
    const o: CliOptions = { stateDir: newStateDir(), fault: 'hang:1' };
    const before = storageSnapshot();
    const p = start(OPS[0]!.args, o);
    await p.waitForStderr(/holding step 1 until interrupted/);
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^kvmctl: error: vm create rel-i-vm: interrupted \(.*\); it had changed nothing yet$/m);
    expect(storageSnapshot()).toEqual(before);
    record('interrupt', 'vm create', 'SIGINT at step 1 (nothing done yet)', 1);
  });

  it.each(OPS)('SIGKILL while $name holds a step: the next run warns, host doctor names what is left; doing what it says restores the host', async (op) => {
    const o: CliOptions = { stateDir: newStateDir(), netns: op.netns, fault: `hang:${op.hold}` };
    const snapshot = op.snapshot(o.stateDir);
    const before = snapshot();
    const p = start(op.args, o);
    await p.waitForStderr(new RegExp(`holding step ${op.hold} until interrupted`));
    p.kill('SIGKILL');
    expect((await p.done).code).toBe(137);
    expect(snapshot()).not.toEqual(before);

    // Any later run warns (here a read-only one).
    const later = await cli(['host', 'doctor', '-o', 'json'], { stateDir: o.stateDir, netns: op.netns });
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).toMatch(/1 earlier kvmctl operation\(s\) were killed midway and may have left objects behind: run kvmctl (-c \S+ )?host doctor/);
    const report = parseOutput(['host', 'doctor'], later.stdout) as { unfinished: Array<{ pid: number; operation: string; argv: string[]; startedAt: string; leftovers: Array<{ what: string; manual: string }> }>; cleared: boolean };
    expect(report.cleared).toBe(false);
    expect(report.unfinished).toHaveLength(1);
    const entry = report.unfinished[0]!;
    expect(entry.operation).toBe(op.label);
    expect(entry.pid).toBe(p.pid);
    expect(entry.argv).toEqual(expect.arrayContaining(op.args));
    expect(Number.isNaN(Date.parse(entry.startedAt))).toBe(false);
    expect(entry.leftovers.length).toBe(op.made);

    const table = await cli(['host', 'doctor'], { stateDir: o.stateDir, netns: op.netns });
    expect(table.code).toBe(0);
    for (const l of entry.leftovers) {
      expect(table.stdout).toContain(l.what);
      expect(table.stdout).toContain(l.manual);
    }
    expect(table.stderr).toMatch(/remove what is listed \(if it still exists\), in the order listed, then run: kvmctl -c \S+ host doctor --clear/);

    // Do what it says, as a person would: paste each command into a shell on that host (namespace).
    for (const l of entry.leftovers) {
      const r = op.netns ? spawnSync('ip', ['netns', 'exec', op.netns, 'bash', '-c', l.manual], { encoding: 'utf8' }) : spawnSync('bash', ['-c', l.manual], { encoding: 'utf8' });
      expect(r.status, `${l.manual}: ${r.stderr}`).toBe(0);
    }
    const cleared = await cli(['host', 'doctor', '--clear'], { stateDir: o.stateDir, netns: op.netns });
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stderr).toMatch(/forgot 1 unfinished operation\(s\)/);
    expect(journalFiles(o.stateDir)).toEqual([]);
    // kvmctl's record of what it changed in the namespace was never written: the run died first.
    expect(snapshot()).toEqual(before);
    const quiet = await cli(['host', 'doctor'], { stateDir: o.stateDir, netns: op.netns });
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/no unfinished operations/);
    record('interrupt', op.name, `SIGKILL at step ${op.hold}, then host doctor, its commands, --clear`, 1);
  });
});
