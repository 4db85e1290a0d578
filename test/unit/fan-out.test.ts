/**
 * -H from recorded virsh output: each host gets its own virsh call with its own
 * URI, lists merge with a HOST column, failures are rows (the same table when
 * every host fails: the verb declares its columns), and the exit codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { CommandTimeoutError, type Runner } from '../../src/exec/runner.js';
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


async function kvmctl(args: string[], runner: Runner) {
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

  it('-o name: each host\'s names under == NAME == (names name no host), a failing host its error there; exit 9', async () => {
    const r = await kvmctl(['-H', 'all', 'net', 'list', '-o', 'name'], runner('b'));
    expect(r.code).toBe(9);
    expect(r.out).toMatch(/^== a ==\ndefault\n== b ==\nerror: cannot reach libvirt at .*\n== c ==\ndefault\n$/);
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

  /** Both hosts of @ab cannot connect: virsh says so, run alone or (`session`) as a session. */
  function unreachable(session: boolean): FakeRunner {
    const rr = new FakeRunner();
    for (const h of ['a', 'b']) {
      if (session) stubSessionExit(rr, rec('err-virsh-unreachable.stderr'), 1, U(h));
      else rr.stub((c) => c.program === 'virsh' && c.args[1] === U(h), { exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') }, Infinity);
    }
    return rr;
  }

  it('every host failing keeps their common exit code (5 here) and the table a partial failure prints', async () => {
    const all = await kvmctl(['-H', '@ab', 'net', 'list'], unreachable(true));
    expect(all.code).toBe(5);
    expect(all.err).toMatch(/every host failed: a: cannot reach libvirt .*; b: cannot reach libvirt /);
    const some = await kvmctl(['-H', 'all', 'net', 'list'], runner('b'));
    expect(some.code).toBe(9);
    const [allHeader, ...allRows] = all.out.trim().split('\n');
    const someLines = some.out.trim().split('\n');
    // The same columns, HOST first, whether some or all hosts fail; each failed host one error row.
    expect(allHeader?.split(/\s+/)).toEqual(someLines[0]?.split(/\s+/));
    expect(allHeader).toMatch(/^HOST\s+NAME\s+/);
    expect(allRows).toEqual([expect.stringMatching(/^a\s+error: cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=\/run\/a\//), expect.stringMatching(/^b\s+error: cannot reach libvirt /)]);
    expect(someLines.find((l) => l.startsWith('b '))).toMatch(/^b\s+error: cannot reach libvirt /);
    expect(all.out).not.toContain('==');
  });

  it.each([
    [['vm', 'list'], /^HOST\s+NAME\s+STATE\s/, true],
    [['pool', 'list'], /^HOST\s+NAME\s+/, false],
    [['volume', 'list'], /^HOST\s+POOL\s+/, false],
    [['net', 'leases'], /^HOST\s+NETWORK\s+/, true],
  ])('-H @ab %j with every host unreachable: HOST-first table, one error row each, exit 5; JSON items empty', async (words, header, session) => {
    const t = await kvmctl(['-H', '@ab', ...words], unreachable(session));
    expect(t.code).toBe(5);
    expect(t.err).toMatch(/every host failed: a: cannot reach libvirt .*; b: cannot reach libvirt /);
    const lines = t.out.trim().split('\n');
    expect(lines[0]).toMatch(header);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^a\s+error: cannot reach libvirt /), expect.stringMatching(/^b\s+error: cannot reach libvirt /)]);
    const j = await kvmctl(['-H', '@ab', ...words, '-o', 'json'], unreachable(session));
    expect(j.code).toBe(5);
    const parsed = parseOutput(['-H', 'all', ...words], j.out);
    expect(parsed.items).toEqual([]);
    expect(parsed.hosts).toEqual([
      { host: 'a', ok: false, error: expect.stringMatching(/^cannot reach libvirt /) },
      { host: 'b', ok: false, error: expect.stringMatching(/^cannot reach libvirt /) },
    ]);
  });

  it('vm list --name-only (or -o name) prints names, no list: every host failing is each host under == NAME ==, as when some fail', async () => {
    for (const flag of ['--name-only', '-o name']) {
      const r = await kvmctl(['-H', '@ab', 'vm', 'list', ...flag.split(' ')], unreachable(false));
      expect(r.code).toBe(5);
      expect(r.err).toMatch(/every host failed: a: cannot reach libvirt .*; b: cannot reach libvirt /);
      expect(r.out).toMatch(/^== a ==\nerror: cannot reach libvirt .*\n== b ==\nerror: cannot reach libvirt .*\n$/);
    }
  });

  /** Neither daemon of @ab can be reached (virsh says so), and every other program fails too (host facts also read ip and iptables). */
  function down(): FakeRunner {
    const rr = new FakeRunner();
    rr.stub(() => true, { exitCode: 1, stderr: 'failed\n' }, Infinity);
    for (const h of ['a', 'b']) stubSessionExit(rr, rec('err-virsh-unreachable.stderr'), 1, U(h));
    return rr;
  }

  it('host check prints its table of checks before it fails: every host failing is the same HOST-first table, exit 5', async () => {
    const t = await kvmctl(['-H', '@ab', 'host', 'check'], down());
    expect(t.code).toBe(5);
    expect(t.err).toMatch(/every host failed: a: host check: \d+ check\(s\) failed: libvirt, .*; b: host check: /);
    const [tableText, fixes, ...rest] = t.out.split('\n\n');
    expect(rest).toEqual([]);
    const table = tableText!.split('\n');
    expect(table[0]).toMatch(/^HOST\s+CHECK\s+STATUS\s+DETAIL$/);
    // Each host's checks, then its error: the failed checks are what the sysadmin needs to see.
    for (const h of ['a', 'b']) {
      const mine = table.filter((l) => l.startsWith(`${h} `));
      expect(mine.some((l) => /^\w\s+libvirt\s+fail\s/.test(l))).toBe(true);
      expect(mine.at(-1)).toMatch(new RegExp(`^${h}\\s+error: host check: \\d+ check\\(s\\) failed: libvirt`));
      expect(mine.length).toBeGreaterThan(2);
    }
    // The fixes once, under the table, each named by its host.
    expect(fixes).toMatch(/^To fix:\n/);
    const fixLines = fixes!.trim().split('\n').slice(1);
    expect(fixLines.length).toBeGreaterThan(1);
    for (const l of fixLines) expect(l).toMatch(/^  [ab] [\w:-]+: /);
    expect(fixLines).toContainEqual(expect.stringMatching(/^  a libvirt: /));
    expect(fixLines).toContainEqual(expect.stringMatching(/^  b libvirt: /));
  });

  it('host, a report, prints each host under == NAME == whether some or all fail', async () => {
    const t = await kvmctl(['-H', '@ab', 'host'], down());
    expect(t.code).toBe(5);
    expect(t.out).toMatch(/^== a ==\nerror: host: cannot reach libvirt at .*\/run\/a\/libvirt-sock/);
    expect(t.out).toMatch(/^== b ==\nerror: host: cannot reach libvirt at .*\/run\/b\/libvirt-sock/m);
    expect(t.out).not.toMatch(/^HOST\s/m);
  });

  /** Hosts that never answer: each program waits out the time it was given, then is stopped, as the real runner stops it. */
  const stopped: Runner = {
    run: async (cmd) => {
      await new Promise((r) => setTimeout(r, cmd.timeoutMs ?? 0));
      throw new CommandTimeoutError(cmd);
    },
    converse: (cmd) => ({
      send: async () => {
        await new Promise((r) => setTimeout(r, cmd.timeoutMs ?? 0));
        throw new CommandTimeoutError(cmd);
      },
      end: async () => ({ stdout: '', stderr: '', exitCode: 0 }),
    }),
  };

  it('host and host check past --host-timeout: the host did not answer (exit 6), not a report of an unreachable libvirt or failed checks', async () => {
    const report = await kvmctl(['-H', '@ab', '--host-timeout', '0.2', 'host'], stopped);
    expect(report.code).toBe(6);
    expect(report.out).toBe('== a ==\nerror: no answer within 0.2 s; its programs were stopped\n== b ==\nerror: no answer within 0.2 s; its programs were stopped\n');
    const check = await kvmctl(['-H', '@ab', '--host-timeout', '0.2', 'host', 'check'], stopped);
    expect(check.code).toBe(6);
    expect(check.err).toMatch(/every host failed: a: no answer within 0\.2 s; its programs were stopped; b: no answer within 0\.2 s/);
    const rows = check.out.trim().split('\n');
    expect(rows[0]).toMatch(/^HOST\s+CHECK\s+STATUS\s+DETAIL$/);
    expect(rows.slice(1)).toEqual([expect.stringMatching(/^a\s+error: no answer within 0\.2 s/), expect.stringMatching(/^b\s+error: no answer within 0\.2 s/)]);
    expect(check.out).not.toMatch(/To fix/);
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
