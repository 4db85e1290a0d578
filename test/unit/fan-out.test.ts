/**
 * -H from recorded virsh output: each host gets its own virsh call with its own
 * URI, lists merge with a HOST column, failures are rows, and the exit codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryIO } from '../../src/output/io.js';
import { memoryFs } from '../../src/local-fs.js';
import { batchStdout, stubSession, stubSessionExit } from '../support/harness.js';
import { parseOutput } from '../support/schemas.js';

const rec = (f: string) => readFileSync(new URL(`../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'kvmctl-fan-'));
const file = join(dir, 'hosts.yaml');
const U = (n: string) => `qemu+unix:///system?socket=/run/${n}/libvirt-sock`;
writeFileSync(file, `hosts:\n  a: {uri: "${U('a')}"}\n  b: {uri: "${U('b')}"}\n  c: {uri: "${U('c')}"}\ngroups:\n  ab: [a, b]\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function kvmctl(args: string[], runner: FakeRunner) {
  const io = memoryIO({ PATH: '/usr/bin', KVMCTL_STATE_DIR: join(dir, 'state'), KVMCTL_HOSTS: file });
  const code = await main(['node', 'kvmctl', ...args], { io, runner, fs: memoryFs({}), version: '0', signal: new AbortController().signal, argv: [] });
  return { code, out: io.out, err: io.err };
}

/** Each host's net list: its own virsh session (the list, then default's XML and leases); the failing one cannot connect. */
function runner(failing?: string): FakeRunner {
  const r = new FakeRunner();
  for (const h of ['a', 'b', 'c']) {
    if (h === failing) stubSessionExit(r, rec('err-virsh-unreachable.stderr'), 1, U(h));
    else
      stubSession(
        r,
        [
          { commands: [['net-list', '--all']], outputs: [rec('virsh-net-list-all.txt')] },
          { commands: [['net-dumpxml', '--network', 'default'], ['net-dhcp-leases', '--network', 'default']], outputs: [rec('virsh-net-dumpxml-default.xml'), rec('virsh-net-dhcp-leases-default.txt')] },
        ],
        U(h),
      );
  }
  return r;
}

describe('-H', () => {
  it('runs the list on each host with its own URI and puts HOST first', async () => {
    const r = await kvmctl(['-H', 'all', 'net', 'list'], runner());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+NAME\s+/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['a', 'b', 'c']);
  });

  it('a failing host is one error row (JSON: hosts[].ok false) and the exit code is 9', async () => {
    const r = await kvmctl(['-H', 'all', 'net', 'list', '-o', 'json'], runner('b'));
    expect(r.code).toBe(9);
    const j = parseOutput(['-H', 'all', 'net', 'list'], r.out);
    expect(j.hosts).toEqual([
      { host: 'a', ok: true, error: null },
      { host: 'b', ok: false, error: expect.stringMatching(/^cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=\/run\/b\//) },
      { host: 'c', ok: true, error: null },
    ]);
    expect(j.items.map((i: { host: string }) => i.host)).toEqual(['a', 'c']);
    expect(r.err).toMatch(/1 of 3 hosts failed, the others are shown: b: cannot reach libvirt/);
  });

  it('every host failing keeps their common exit code (5 here)', async () => {
    const rr = new FakeRunner();
    for (const h of ['a', 'b']) stubSessionExit(rr, rec('err-virsh-unreachable.stderr'), 1, U(h));
    const r = await kvmctl(['-H', '@ab', 'net', 'list'], rr);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/every host failed: a: .*; b: /);
    // No host gave a list to take columns from: each host's error under its name.
    expect(r.out).toMatch(/^== a ==\nerror: cannot reach libvirt .*\n== b ==\nerror: cannot reach libvirt /);
  });

  it('refuses -H with a write command, with -c, and an unknown host, before running anything', async () => {
    const rr = new FakeRunner();
    const w = await kvmctl(['-H', 'a', 'net', 'start', 'default'], rr);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/-H does not apply to kvmctl net start/);
    const c = await kvmctl(['-H', 'a', '-c', 'qemu:///system', 'net', 'list'], rr);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/-H and -c both name hosts/);
    expect((await kvmctl(['-H', 'zz', 'net', 'list'], rr)).code).toBe(3);
    expect(rr.calls).toEqual([]);
  });
});

describe('-H vm list during a migration', () => {
  // vm list's domstats on the source (running) and on the target (paused, reason "migrating") in the middle of a migration.
  const during = { a: rec('migration/domstats-during-source.txt'), b: rec('migration/domstats-list-nowait-during-target.txt') };
  function listing(hosts: Record<string, string>): FakeRunner {
    const r = new FakeRunner();
    const first = [['domstats', '--raw', '--state', '--vcpu', '--balloon', '--block', '--interface', '--nowait'], ['list', '--all', '--autostart', '--name'], ['net-list', '--all']];
    // Each host's session: domstats, the autostart names, no active network (so no second round).
    for (const [h, domstats] of Object.entries(hosts)) stubSession(r, [{ commands: first, outputs: [domstats, '', ''] }], U(h));
    return r;
  }

  it('the VM is shown once, on the host it comes from, as migrating (JSON: migratingTo)', async () => {
    const rr = listing(during);
    const r = await kvmctl(['-H', '@ab', 'vm', 'list', '-o', 'json'], rr);
    expect(r.code).toBe(0);
    const { items } = parseOutput(['-H', '@ab', 'vm', 'list'], r.out);
    expect(items).toEqual([
      { host: 'a', name: 'fxmig', state: 'migrating', vcpus: null, memoryBytes: null, maxMemoryBytes: null, autostart: false, addresses: [], diskCount: 0, diskBytes: 0, migrating: true, migratingTo: 'b' },
    ]);
    const table = await kvmctl(['-H', '@ab', 'vm', 'list'], listing(during));
    expect(table.out.trim().split('\n').slice(1)).toEqual([expect.stringMatching(/^a\s+fxmig\s+migrating\s/)]);
    rr.verify();
  });

  it('one host alone shows the target\'s VM paused, marked migrating; two unrelated VMs of one name stay two rows', async () => {
    const one = await kvmctl(['-H', 'b', 'vm', 'list', '-o', 'json'], listing({ b: during.b }));
    expect(parseOutput(['-H', 'b', 'vm', 'list'], one.out).items).toEqual([expect.objectContaining({ host: 'b', name: 'fxmig', state: 'paused', migrating: true })]);
    const two = await kvmctl(['-H', '@ab', 'vm', 'list', '-o', 'json'], listing({ a: during.a, b: during.a }));
    expect(parseOutput(['-H', '@ab', 'vm', 'list'], two.out).items.map((i: { host: string; state: string }) => `${i.host}:${i.state}`)).toEqual(['a:running', 'b:running']);
  });
});
