/**
 * Many names on the lifecycle and delete verbs of VMs, --if-exists on vm, net
 * and bridge delete, and net forward delete by the ID net forward list prints:
 * the built CLI against the lab, each result checked with virsh or
 * iptables-save in the lab's namespace; every refusal leaves the host as it was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonError, parseOutput } from '../support/schemas.js';
import { cli, inNetns, lab, newStateDir, removeStateDirs, snapshotHost, virsh, type CliOptions } from './reliability/harness.js';

const PREFIX = 'mnvm';
const [A, B, C] = [`${PREFIX}-a`, `${PREFIX}-b`, `${PREFIX}-c`];
/** Never defined: the absent one among the names. */
const ABSENT = `${PREFIX}-absent`;
const NO_NET = `${PREFIX}-nonet`;
const NO_BRIDGE = 'mnvmbr0';
const PORT = 18080;
const TARGET = '192.0.2.10:8080';
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-many-vm-'));
let o: CliOptions;

const domstate = (name: string) => virsh('domstate', '--domain', name).stdout.trim();
const defined = () => virsh('list', '--all', '--name').stdout.split('\n').map((l) => l.trim()).filter((n) => n.startsWith(PREFIX)).sort();
/** Libvirt's domains, pools and networks, and the lab namespace's links, routes and iptables. */
const state = () => snapshotHost({ netns: lab.netns });
const forwardRules = () => inNetns(lab.netns, 'iptables-save').stdout.split('\n').filter((l) => l.includes('kvmctl:fwd:'));

/** A disk-less VM of type qemu booting the lab guest's kernel, with no network; defined with virsh, not kvmctl. */
function defineVm(name: string): void {
  const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <devices><serial type='pty'/><console type='pty'/></devices></domain>`;
  const file = join(work, `${name}.xml`);
  writeFileSync(file, xml);
  const r = virsh('define', '--file', file);
  if (r.code !== 0) throw new Error(`virsh define ${name}: ${r.stderr}`);
}

function removeVms(): void {
  for (const name of [A, B, C, ABSENT]) {
    virsh('destroy', '--domain', name);
    virsh('undefine', '--domain', name);
  }
}

/** Deletes the test's forward rules from the lab namespace by their own spec, should a test have left any. */
function removeForwardRules(): void {
  let table = 'filter';
  for (const line of inNetns(lab.netns, 'iptables-save').stdout.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-A ') || !line.includes(`"kvmctl:fwd:tcp-${PORT}"`)) continue;
    const spec = (line.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, ''));
    inNetns(lab.netns, 'iptables', '-t', table, '-D', ...spec);
  }
}

beforeAll(() => {
  o = { stateDir: newStateDir() };
  removeVms();
  for (const name of [A, B, C]) defineVm(name);
});

afterAll(() => {
  removeVms();
  removeForwardRules();
  rmSync(work, { recursive: true, force: true });
  removeStateDirs();
});

describe('vm lifecycle and delete of several VMs', () => {
  it('vm start a absent c: exit 3, a and c running, one line per VM', async () => {
    const r = await cli(['vm', 'start', A, ABSENT, C], o);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(`vm ${A} started\nvm ${C} started\n`);
    expect(r.stderr).toContain(`VM "${ABSENT}" not found`);
    expect(r.stderr).toContain(`vm start: 1 of 3 failed (${ABSENT}: not-found)`);
    expect([domstate(A), domstate(B), domstate(C)]).toEqual(['running', 'shut off', 'running']);
    expect(defined()).toEqual([A, B, C]);
  });

  it('-o json: one element per name in the order given, the absent one {name, changed: false, error}', async () => {
    const args = ['vm', 'start', A, ABSENT, B];
    const r = await cli([...args, '-o', 'json'], o);
    expect(r.code).toBe(3);
    const out = parseOutput<any[]>(args, r.stdout);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ name: A, state: 'running', changed: false });
    expect(out[1]).toMatchObject({ name: ABSENT, changed: false, error: { code: 'not-found', exit: 3, object: { kind: 'vm', name: ABSENT } } });
    expect(out[1].error.message).toContain(`VM "${ABSENT}" not found`);
    expect(out[2]).toEqual({ name: B, state: 'running', changed: true });
    expect(parseJsonError(r.stderr).error).toMatchObject({ code: 'not-found', object: { kind: 'vm', name: ABSENT } });
    expect([domstate(A), domstate(B), domstate(C)]).toEqual(['running', 'running', 'running']);
    expect(defined()).toEqual([A, B, C]);
  });

  it('vm delete of a running VM without --force is refused (exit 5), also with --if-exists; nothing changed', async () => {
    const before = state();
    for (const extra of [[], ['--if-exists']]) {
      const r = await cli(['vm', 'delete', C, ...extra], o);
      expect(r.code).toBe(5);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`VM "${C}" is running; it was left unchanged`);
      expect(r.stderr).toContain(`vm stop ${C}`);
    }
    expect(state()).toEqual(before);
    expect(domstate(C)).toBe('running');
  });

  it('vm destroy a b --parallel 2: exit 0, both shut off, c still running', async () => {
    const args = ['vm', 'destroy', A, B];
    const r = await cli(['--parallel', '2', ...args, '-o', 'json'], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseOutput<any[]>(args, r.stdout)).toEqual([
      { name: A, state: 'shutoff', changed: true },
      { name: B, state: 'shutoff', changed: true },
    ]);
    expect([domstate(A), domstate(B), domstate(C)]).toEqual(['shut off', 'shut off', 'running']);
  });

  it('vm delete --parallel 2 of several is refused (exit 2), nothing deleted', async () => {
    const before = state();
    const r = await cli(['--parallel', '2', 'vm', 'delete', A, B], o);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--parallel does not apply to vm delete with several names');
    expect(state()).toEqual(before);
  });

  it('vm delete a b: exit 0, both gone, c still there', async () => {
    const r = await cli(['vm', 'delete', A, B], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('vm '))).toEqual([`vm ${A} deleted`, `vm ${B} deleted`]);
    expect(defined()).toEqual([C]);
  });

  it('vm delete of a deleted and a running one: the refusal (exit 5) outranks not-found, c stays', async () => {
    const before = state();
    const args = ['vm', 'delete', A, C];
    const r = await cli([...args, '-o', 'json'], o);
    expect(r.code).toBe(5);
    const out = parseOutput<any[]>(args, r.stdout);
    expect(out.map((e) => [e.name, e.changed, e.error.code])).toEqual([
      [A, false, 'not-found'],
      [C, false, 'refused'],
    ]);
    expect(parseJsonError(r.stderr).error).toMatchObject({ code: 'refused', exit: 5, object: null });
    expect(state()).toEqual(before);
  });
});

describe('--if-exists on deletes of an absent object', () => {
  it('vm delete: exit 0, changed false; several: the absent ones changed false', async () => {
    const before = state();
    const one = await cli(['vm', 'delete', ABSENT, '--if-exists', '-o', 'json'], o);
    expect(one.code).toBe(0);
    expect(parseOutput(['vm', 'delete'], one.stdout)).toEqual({ changed: false, name: ABSENT });
    const text = await cli(['vm', 'delete', ABSENT, '--if-exists'], o);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`VM "${ABSENT}" not found`);
    expect(text.stdout).toContain('nothing to delete (--if-exists)');
    const args = ['vm', 'delete', A, B, '--if-exists'];
    const many = await cli([...args, '-o', 'json'], o);
    expect(many.code).toBe(0);
    expect(parseOutput(args, many.stdout)).toEqual([
      { changed: false, name: A },
      { changed: false, name: B },
    ]);
    expect(state()).toEqual(before);
  });

  it('without --if-exists the same delete is exit 3, naming the VM', async () => {
    const before = state();
    const r = await cli(['vm', 'delete', ABSENT], o);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`VM "${ABSENT}" not found`);
    expect(state()).toEqual(before);
  });

  // noun, absent name, the error's first line, what its hint names
  const cases = [
    ['net', NO_NET, `kvmctl: error: network "${NO_NET}" not found`, 'net list'],
    ['bridge', NO_BRIDGE, `kvmctl: error: bridge "${NO_BRIDGE}" not found`, `bridge create ${NO_BRIDGE}`],
  ] as const;
  for (const [noun, name, message, hint] of cases) {
    it(`${noun} delete: exit 0, changed false; without it exit 3`, async () => {
      const before = state();
      const r = await cli([noun, 'delete', name, '--if-exists', '-o', 'json'], o);
      expect(r.code).toBe(0);
      expect(parseOutput([noun, 'delete'], r.stdout)).toEqual({ changed: false, name });
      const plain = await cli([noun, 'delete', name], o);
      expect(plain.code).toBe(3);
      expect(plain.stderr).toContain(message);
      expect(plain.stderr).toContain(hint);
      expect(state()).toEqual(before);
    });
  }
});

describe('net forward delete by the ID net forward list prints', () => {
  it('add, list, delete the listed ID: exit 0 and its rules gone', async () => {
    const add = await cli(['net', 'forward', 'add', '--port', String(PORT), '--to', TARGET], o);
    expect(add.code, add.stderr).toBe(0);
    expect(forwardRules().length).toBeGreaterThan(0);
    const list = await cli(['net', 'forward', 'list', '-o', 'json'], o);
    expect(list.code).toBe(0);
    const forwards = parseOutput<Array<{ id: string; toAddress: string }>>(['net', 'forward', 'list'], list.stdout);
    const ours = forwards.filter((f) => f.toAddress === TARGET.split(':')[0]);
    expect(ours).toHaveLength(1);
    const id = ours[0]!.id;
    expect(id).toMatch(new RegExp(`^tcp-${PORT}$`));
    const rules = forwardRules().filter((l) => l.includes(`"kvmctl:fwd:${id}"`));
    const r = await cli(['net', 'forward', 'delete', id, '-o', 'json'], o);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseOutput(['net', 'forward', 'delete'], r.stdout)).toEqual({ id, changed: true, rulesRemoved: rules.length });
    expect(forwardRules().filter((l) => l.includes(`"kvmctl:fwd:${id}"`))).toEqual([]);
  });

  it('a second delete is exit 3 naming the forward; with --if-exists exit 0, changed false; nothing changed', async () => {
    const id = `tcp-${PORT}`;
    const before = state();
    const again = await cli(['net', 'forward', 'delete', id], o);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`no kvmctl port forward ${id}`);
    expect(again.stderr).toContain('net forward list');
    const quiet = await cli(['net', 'forward', 'delete', id, '--if-exists', '-o', 'json'], o);
    expect(quiet.code).toBe(0);
    expect(parseOutput(['net', 'forward', 'delete'], quiet.stdout)).toEqual({ changed: false, id });
    expect(state()).toEqual(before);
  });
});
