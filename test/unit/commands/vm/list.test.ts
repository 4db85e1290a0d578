/** `vm list` from recorded virsh output; one virsh process (a session of two rounds) however many VMs exist. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { mutations, recorded, runKvmctl, stubBatch, stubRecordedSession, stubSession, stubSessionExit } from '../../../support/harness.js';
import { parseOutput } from '../../../support/schemas.js';
import { RECORDED_WEB, RECORDED_WEB_LEASE } from '../../../support/vm.js';

/** The session vm list held against a lab (test/fixtures/recorded/session/record.sh). */
const SESSION = JSON.parse(readFileSync('test/fixtures/recorded/session/vm-list.json', 'utf8')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
  list: unknown[];
};
const LEASES = [['net-dhcp-leases', '--network', 'default']];

const LIST_WORDS = [['domstats', '--raw', '--state', '--vcpu', '--balloon', '--block', '--interface', '--nowait'], ['list', '--all', '--autostart', '--name'], ['net-list', '--all']];

/** The recorded running VM's stats block, renamed. */
function runningStats(name: string): string {
  const text = recorded('vm/virsh-domstats-list.txt');
  const block = text.slice(text.indexOf("Domain: 'fxvm-web'"), text.indexOf("Domain: 'fxvm-off'"));
  return block.replace("Domain: 'fxvm-web'", `Domain: '${name}'`);
}

/** The recorded running VM's NIC list with another MAC. */
function runningNics(mac: string): string {
  return recorded('vm/virsh-domiflist-web.txt').replace('52:54:00:f1:00:01', mac);
}

function leaseLine(mac: string, ip: string): string {
  return ` 2026-11-25 03:00:00   ${mac}   ipv4       ${ip}/24   -              01:${mac}\n`;
}

/** N running VMs with a lease each: the stubs of both batches. */
function stubRunningVms(runner: FakeRunner, n: number): FakeRunner {
  const names = Array.from({ length: n }, (_, i) => `vm-${String(i).padStart(3, '0')}`);
  const mac = (i: number) => `52:54:00:aa:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  const header = ' Expiry Time           MAC address         Protocol   IP address          Hostname       Client ID or DUID\n-----\n';
  return stubSession(runner, [
    { commands: LIST_WORDS, outputs: [names.map(runningStats).join(''), `${names[0]}\n\n`, recorded('vm/virsh-net-list-all.txt')] },
    {
      commands: [...LEASES, ...names.map((nm) => ['domiflist', '--domain', nm])],
      outputs: [header + names.map((_, i) => leaseLine(mac(i), `10.1.${i >> 8}.${i & 255}`)).join(''), ...names.map((_, i) => runningNics(mac(i)))],
    },
  ]);
}

/** Both rounds over the recordings of test/fixtures/recorded/vm. */
function stubRecordedVms(runner: FakeRunner, autostart = recorded('vm/virsh-list-all-autostart-name.txt')): FakeRunner {
  return stubSession(runner, [
    { commands: LIST_WORDS, outputs: [recorded('vm/virsh-domstats-list.txt'), autostart, recorded('vm/virsh-net-list-all.txt')] },
    { commands: [...LEASES, ['domiflist', '--domain', 'fxvm-web']], outputs: [recorded('vm/virsh-net-dhcp-leases-default.txt'), recorded('vm/virsh-domiflist-web.txt')] },
  ]);
}

describe('vm list', () => {
  it('replays the session it held against a lab: one virsh, the running VM with the odd name has its lease', async () => {
    const runner = stubRecordedSession(new FakeRunner(), SESSION.sessions[0]!, SESSION.tokens[0]!);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const vms = parseOutput(['vm', 'list'], r.out);
    expect(vms).toEqual(SESSION.list);
    expect(vms[0]).toMatchObject({ name: `fxs run'q;"x`, state: 'running', addresses: [{ address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24, mac: '52:54:00:f5:00:01', source: 'lease' }] });
    expect(vms[1]).toMatchObject({ name: 'fxs-off', state: 'shutoff', addresses: [] });
    expect(runner.calls.map((c) => c.args)).toEqual([['-c', 'qemu:///system']]);
  });

  it('shows each VM: state, vCPUs, memory, autostart, leased IPs, block devices and their size', async () => {
    const runner = stubRecordedVms(new FakeRunner());
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const none = { migrating: false, migratingTo: null };
    expect(parseOutput(['vm', 'list'], r.out)).toEqual([
      { name: 'fxvm odd;name', state: 'shutoff', vcpus: 1, memoryBytes: 64 * 1024 ** 2, maxMemoryBytes: 64 * 1024 ** 2, autostart: false, addresses: [], diskCount: 0, diskBytes: 0, ...none },
      { name: 'fxvm-off', state: 'shutoff', vcpus: 2, memoryBytes: 128 * 1024 ** 2, maxMemoryBytes: 128 * 1024 ** 2, autostart: false, addresses: [], diskCount: 2, diskBytes: 64 * 1024 ** 2 * 2, ...none },
      { ...RECORDED_WEB, addresses: [RECORDED_WEB_LEASE], diskCount: 2, diskBytes: 1073741824 + 374784, ...none },
    ]);
    runner.verify();
  });

  it('renders a table with a row per VM, odd names as they are', async () => {
    const runner = stubRecordedVms(new FakeRunner(), '\n');
    const r = await runKvmctl(['vm', 'list'], runner);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+VCPUS\s+MEMORY\s+AUTOSTART\s+IPS\s+DISKS\s+DISK SIZE$/);
    expect(lines[1]).toMatch(/^fxvm odd;name\s+shutoff\s+1\s+64\.0 MiB\s+no\s+-\s+0\s+-$/);
    expect(lines[3]).toMatch(/^fxvm-web\s+running\s+1\s+256\.0 MiB\s+no\s+192\.168\.122\.\d+\s+2\s+1\.0 GiB$/);
  });

  it('runs one virsh process, of two rounds, for 1 VM and for 100', async () => {
    for (const n of [1, 100]) {
      const runner = stubRunningVms(new FakeRunner(), n);
      const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      const vms = parseOutput<Array<{ addresses: Array<{ address: string }> }>>(['vm', 'list'], r.out);
      expect(vms).toHaveLength(n);
      expect(vms[n - 1]?.addresses.map((a) => a.address)).toEqual([`10.1.${(n - 1) >> 8}.${(n - 1) & 255}`]);
      expect(runner.calls).toHaveLength(1);
      expect(runner.sent[0]).toHaveLength(2);
      runner.verify();
    }
  });

  it('with no running VM (or no active network) the lease query is skipped: one round', async () => {
    const runner = new FakeRunner();
    stubSession(runner, [{ commands: LIST_WORDS, outputs: [recorded('vm/virsh-domstats-list.txt').replace(/Domain: 'fxvm-web'[\s\S]*?(?=Domain: 'fxvm-off')/, ''), '', recorded('vm/virsh-net-list-all.txt')] }]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'list'], r.out).map((v: { name: string }) => v.name)).toEqual(['fxvm odd;name', 'fxvm-off']);
    expect(runner.calls).toHaveLength(1);
    runner.verify();
  });

  it('--state filters in libvirt; --name-only prints one name a line in one call', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['domstats', '--raw', '--state', '--list-running']], [recorded('vm/virsh-domstats-state-list-running.txt')]);
    const r = await runKvmctl(['vm', 'list', '--state', 'running', '--name-only'], runner);
    expect(r.out).toBe('fxvm-web\n');
    expect(runner.calls).toHaveLength(1);
    const bad = await runKvmctl(['vm', 'list', '--state', 'asleep'], new FakeRunner());
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--state "asleep": expected running, shutoff, paused/);
  });

  it('sorts by name by code unit, the same on every host and locale', async () => {
    // The recorded shut-off VM's stats block (up to the next block or the end).
    const off = /Domain: 'fxvm-off'[\s\S]*?(?=^Domain: |(?![\s\S]))/m.exec(recorded('vm/virsh-domstats-list.txt'))?.[0] ?? '';
    expect(off).toMatch(/block\.count=2/);
    const names = ['b', 'B', 'a', 'Z', 'a-1', 'a1'];
    const runner = new FakeRunner();
    stubSession(runner, [{ commands: LIST_WORDS, outputs: [names.map((n) => off.replace("Domain: 'fxvm-off'", `Domain: '${n}'`)).join(''), '', recorded('vm/virsh-net-list-all.txt')] }]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'list'], r.out).map((v: { name: string }) => v.name)).toEqual(['B', 'Z', 'a', 'a-1', 'a1', 'b']);
    runner.verify();
  });

  it('no VMs: an empty JSON array, a note on stderr for people', async () => {
    const runner = new FakeRunner();
    for (let i = 0; i < 2; i++) stubSession(runner, [{ commands: LIST_WORDS, outputs: ['', '', recorded('vm/virsh-net-list-all.txt')] }]);
    expect((await runKvmctl(['vm', 'list', '-o', 'json'], runner)).out).toBe('[]\n');
    const t = await runKvmctl(['vm', 'list'], runner);
    expect([t.code, t.out, t.err]).toEqual([0, '', 'no VMs\n']);
  });

  it('an unreachable daemon (virsh leaves its shell at once) is exit 5 naming the URI', async () => {
    const runner = stubSessionExit(new FakeRunner(), recorded('err-virsh-unreachable.stderr'));
    const r = await runKvmctl(['vm', 'list'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/cannot reach libvirt at qemu:\/\/\/system/);
    expect(r.out).toBe('');
  });

  it('domstats failing in the first round is exit 1 with virsh\'s message for that command alone; nothing changes', async () => {
    const runner = stubSession(new FakeRunner(), [
      { commands: LIST_WORDS, outputs: ['\n', '', recorded('vm/virsh-net-list-all.txt')], stderrs: ["error: Failed to list domains\nerror: internal error: the stats went away\n", 'error: noise of another command\n', ''] },
    ]);
    const r = await runKvmctl(['vm', 'list'], runner);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not list VMs: error: Failed to list domains\nerror: internal error: the stats went away/);
    expect(r.err).not.toMatch(/noise of another command/);
    expect(mutations(runner)).toEqual([]);
  });

  it('a VM gone between the rounds (its domiflist fails) is listed without addresses; the others keep theirs', async () => {
    const names = ['vm-a', 'vm-b'];
    const runner = stubSession(new FakeRunner(), [
      { commands: LIST_WORDS, outputs: [names.map(runningStats).join(''), '', recorded('vm/virsh-net-list-all.txt')] },
      {
        commands: [...LEASES, ...names.map((n) => ['domiflist', '--domain', n])],
        outputs: [recorded('vm/virsh-net-dhcp-leases-default.txt'), '\n', recorded('vm/virsh-domiflist-web.txt')],
        stderrs: ['', "error: failed to get domain 'vm-a'\n", ''],
      },
    ]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const vms = parseOutput<Array<{ name: string; addresses: unknown[] }>>(['vm', 'list'], r.out);
    expect(vms.map((v) => [v.name, v.addresses.length])).toEqual([['vm-a', 0], ['vm-b', 1]]);
  });

  it('a running VM whose name holds a control character gets its NICs from a batch of its own (readline would edit the name)', async () => {
    const tab = 'vm\ttab';
    const runner = stubSession(new FakeRunner(), [
      { commands: LIST_WORDS, outputs: [[tab, 'vm-b'].map(runningStats).join(''), '', recorded('vm/virsh-net-list-all.txt')] },
      { commands: [...LEASES, ['domiflist', '--domain', 'vm-b']], outputs: [recorded('vm/virsh-net-dhcp-leases-default.txt'), runningNics('52:54:00:aa:00:02')] },
    ]);
    stubBatch(runner, [['domiflist', '--domain', tab]], [recorded('vm/virsh-domiflist-web.txt')]);
    const r = await runKvmctl(['vm', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    const vms = parseOutput<Array<{ name: string; addresses: Array<{ mac: string }> }>>(['vm', 'list'], r.out);
    expect(vms.map((v) => [v.name, v.addresses.map((a) => a.mac)])).toEqual([[tab, ['52:54:00:f1:00:01']], ['vm-b', []]]);
    expect(runner.calls).toHaveLength(2);
  });
});
