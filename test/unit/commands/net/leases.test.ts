/** kvmctl net leases over the recorded lab: one virsh process (a session of rounds) however many networks and VMs exist. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDhcpLeases } from '../../../../src/libvirt/network-commands.js';
import { recorded, runKvmctl, stubRecordedSession, stubSession, stubSessionExit, URI } from '../../../support/harness.js';
import { stubLeasesSession } from '../../../support/net.js';

const LEASE_EXPIRY = /^ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(recorded('net/virsh-net-dhcp-leases-fxn-nat.txt'))?.[1] ?? '';
/** virsh prints the expiry in local time. */
const leaseExpiryIso = new Date(LEASE_EXPIRY.replace(' ', 'T')).toISOString();

/** The sessions net leases held against a lab (test/fixtures/recorded/session/record.sh): every network's, then `default`'s. */
const SESSION = JSON.parse(readFileSync('test/fixtures/recorded/session/net-leases.json', 'utf8')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
  lists: unknown[][];
};

describe('net leases', () => {
  it('lists the leases of every network with the VM that owns each MAC: one virsh process, four rounds', async () => {
    const runner = stubLeasesSession(new FakeRunner());
    const r = await runKvmctl(['net', 'leases', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    // default's lease belongs to a VM undefined since (see the README): no VM owns its MAC.
    const defaultLease = parseDhcpLeases(recorded('net/virsh-net-dhcp-leases-default.txt'))[0];
    expect(parseOutput(['net', 'leases'], r.out)).toEqual([
      {
        address: defaultLease!.ip,
        prefix: defaultLease!.prefix,
        mac: defaultLease!.mac,
        source: 'lease',
        hostname: defaultLease!.hostname ?? null,
        expiresAt: defaultLease!.expiryTime,
        family: 'ipv4',
        clientId: defaultLease!.clientId ?? null,
        network: 'default',
        vm: null,
      },
      { address: '10.213.0.227', prefix: 24, mac: '52:54:00:f0:00:01', source: 'lease', hostname: 'fxn-vm1', expiresAt: leaseExpiryIso, family: 'ipv4', clientId: '01:52:54:00:f0:00:01', network: 'fxn-nat', vm: 'fxn-vm1' },
    ]);
    expect(r.runner.calls.map((c) => c.args)).toEqual([['-c', URI]]);
    expect(runner.sent[0]).toHaveLength(4);
    r.runner.verify();
  });

  it('replays the sessions it held against a lab: one virsh process for all networks and for one, readline echo and all', async () => {
    for (const [i, args] of [[], ['default']].entries()) {
      const runner = stubRecordedSession(new FakeRunner(), SESSION.sessions[i]!, SESSION.tokens[i]!);
      const r = await runKvmctl(['net', 'leases', ...args, '-o', 'json'], runner);
      expect(r.code).toBe(0);
      expect(parseOutput(['net', 'leases'], r.out)).toEqual(SESSION.lists[i]);
      expect(SESSION.lists[i]).toMatchObject([{ network: 'default', mac: '52:54:00:f5:00:01', source: 'lease', vm: `fxs run'q;"x` }]);
      expect(runner.calls.map((c) => c.args)).toEqual([['-c', URI]]);
      runner.verify();
    }
  });

  it('runs one virsh process, of four rounds, for 1 network and 1 VM and for 300 of each', async () => {
    for (const count of [1, 300]) {
      const names = Array.from({ length: count }, (_, i) => `n${i}`);
      const vms = Array.from({ length: count }, (_, i) => `v${i}`);
      const runner = new FakeRunner();
      stubSession(runner, [
        { commands: [['net-list', '--all']], outputs: [[' Name   State    Autostart   Persistent', '-----', ...names.map((n) => ` ${n}   active   yes   yes`)].join('\n')] },
        {
          commands: names.flatMap((n) => [['net-dumpxml', '--network', n], ['net-dhcp-leases', '--network', n]]),
          outputs: names.flatMap((n) => [recorded('net/virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), recorded('net/virsh-net-dhcp-leases-fxn-nat.txt')]),
        },
        { commands: [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], outputs: [vms.map((v) => `Domain: '${v}'\n  state.state=1\n  state.reason=1\n\n`).join(''), ''] },
        { commands: vms.map((v) => ['dumpxml', '--domain', v]), outputs: vms.map((v) => recorded('net/virsh-dumpxml-fxn-vm1.xml').replace('<name>fxn-vm1</name>', `<name>${v}</name>`)) },
      ]);
      const r = await runKvmctl(['net', 'leases', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      const leases = parseOutput(['net', 'leases'], r.out) as Array<{ vm: string | null }>;
      expect(leases).toHaveLength(count);
      expect(leases[0]?.vm).toMatch(/^v\d+$/);
      expect(runner.calls).toHaveLength(1);
      expect(runner.sent[0]).toHaveLength(4);
      runner.verify();
    }
  });

  it('of one network, as a table: one virsh process, three rounds', async () => {
    const runner = stubLeasesSession(new FakeRunner(), 'fxn-nat');
    const r = await runKvmctl(['net', 'leases', 'fxn-nat'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NETWORK\s+MAC\s+IP\s+HOSTNAME\s+EXPIRES\s+VM\n/);
    expect(r.out).toMatch(/fxn-nat\s+52:54:00:f0:00:01\s+10\.213\.0\.227\/24\s+fxn-vm1\s+\S+Z\s+fxn-vm1\n/);
    expect(r.runner.calls).toHaveLength(1);
    expect(runner.sent[0]).toHaveLength(3);
    r.runner.verify();
  });

  it('an unknown network is exit 3, and no VM is read', async () => {
    // Each of the three reads fails as net-dhcp-leases did against the lab.
    const err = recorded('net/err-virsh-net-dhcp-leases-nosuch.stderr');
    const runner = stubSession(new FakeRunner(), [
      { commands: [['net-info', '--network', 'nosuch'], ['net-dumpxml', '--network', 'nosuch'], ['net-dhcp-leases', '--network', 'nosuch']], outputs: ['', '', ''], stderrs: [err, err, err] },
    ]);
    const r = await runKvmctl(['net', 'leases', 'nosuch'], runner);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`kvmctl: error: network "nosuch" not found (Network not found: no network with matching name 'nosuch')\nhint: list what exists with: kvmctl net list\n`);
    expect(r.out).toBe('');
    expect(runner.sent[0]).toHaveLength(1);
    runner.verify();
  });

  it('an unreachable libvirt is exit 5 naming the URI', async () => {
    // virsh leaves its shell at once when it cannot connect.
    const r = await runKvmctl(['net', 'leases'], stubSessionExit(new FakeRunner(), recorded('err-virsh-unreachable.stderr')));
    expect(r.code).toBe(5);
    expect(r.err).toContain(`cannot reach libvirt at ${URI}`);
    expect(r.out).toBe('');
  });
});
