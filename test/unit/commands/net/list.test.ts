/** kvmctl net list over the recorded lab: one virsh process (a session of two rounds) however many networks exist. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { loadNetworks } from '../../../../src/libvirt/network-commands.js';
import { recorded, runKvmctl, stubBatch, stubRecordedSession, stubSession, stubSessionExit, URI, tableLines } from '../../../support/harness.js';
import { LAB_NETWORKS, stubNetworkSession } from '../../../support/net.js';

/** The session net list held against a lab (test/fixtures/recorded/session/record.sh). */
const SESSION = JSON.parse(readFileSync('test/fixtures/recorded/session/net-list.json', 'utf8')) as {
  tokens: string[];
  sessions: Array<{ rounds: Array<{ input: string; stdout: string; stderr: string }> }>;
  list: unknown[];
};

describe('net list', () => {
  it('shows every network with mode, bridge, subnet, DHCP range and lease count', async () => {
    const r = await runKvmctl(['net', 'list'], stubNetworkSession(new FakeRunner(), { leases: true }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tableLines(r.out)).toEqual([
      'NAME STATE AUTOSTART PERSISTENT MODE BRIDGE SUBNET DHCP LEASES',
      'default active yes yes nat virbr0 192.168.122.0/24 192.168.122.2-192.168.122.254 1',
      'fxn-br active no yes bridge fxbr0 - - 0',
      'fxn-iso inactive no yes isolated virbr3 10.215.0.0/24 - 0',
      'fxn-nat active yes yes nat virbr1 10.213.0.0/24 10.213.0.2-10.213.0.254 1',
      'fxn-route active no yes route virbr2 10.214.0.0/24 10.214.0.100-10.214.0.199 0',
      '',
    ]);
    r.runner.verify();
  });

  it('-o json gives camelCase objects', async () => {
    const r = await runKvmctl(['net', 'list', '-o', 'json'], stubNetworkSession(new FakeRunner(), { leases: true }));
    const nat = parseOutput(['net', 'list'], r.out).find((n: { name: string }) => n.name === 'fxn-nat');
    expect(nat).toEqual({
      name: 'fxn-nat',
      state: 'active',
      active: true,
      autostart: true,
      persistent: true,
      mode: 'nat',
      bridge: 'virbr1',
      subnet: '10.213.0.0/24',
      gateway: '10.213.0.1',
      dhcpRange: { start: '10.213.0.2', end: '10.213.0.254' },
      leaseCount: 1,
    });
  });

  it('replays the session it held against a lab: one virsh process, readline echo and all', async () => {
    const runner = stubRecordedSession(new FakeRunner(), SESSION.sessions[0]!, SESSION.tokens[0]!);
    const r = await runKvmctl(['net', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(parseOutput(['net', 'list'], r.out)).toEqual(SESSION.list);
    expect(SESSION.list).toMatchObject([{ name: 'default', state: 'active', mode: 'nat', bridge: 'virbr0' }]);
    expect(runner.calls.map((c) => c.args)).toEqual([['-c', URI]]);
    runner.verify();
  });

  it('runs one virsh process, of two rounds, for 1 network and for 300', async () => {
    for (const count of [1, 300]) {
      const names = Array.from({ length: count }, (_, i) => `n${i}`);
      const runner = new FakeRunner();
      const list = [' Name   State    Autostart   Persistent', '-----', ...names.map((n) => ` ${n}   active   yes   yes`)].join('\n');
      stubSession(runner, [
        { commands: [['net-list', '--all']], outputs: [list] },
        {
          commands: names.flatMap((n) => [['net-dumpxml', '--network', n], ['net-dhcp-leases', '--network', n]]),
          outputs: names.flatMap((n) => [recorded('net/virsh-net-dumpxml-fxn-nat.xml').replace('fxn-nat', n), recorded('net/virsh-net-dhcp-leases-fxn-nat.txt')]),
        },
      ]);
      const r = await runKvmctl(['net', 'list', '-o', 'json'], runner);
      expect(r.code).toBe(0);
      expect(parseOutput(['net', 'list'], r.out)).toHaveLength(count);
      expect(runner.calls).toHaveLength(1);
      expect(runner.sent[0]).toHaveLength(2);
      runner.verify();
    }
  });

  it('no networks: one round, and a hint on stderr', async () => {
    const runner = stubSession(new FakeRunner(), [{ commands: [['net-list', '--all']], outputs: [' Name   State   Autostart   Persistent\n----------------------------------------\n\n'] }]);
    const r = await runKvmctl(['net', 'list'], runner);
    expect(r.code).toBe(0);
    expect(r.err).toContain('no libvirt networks; create one with: kvmctl net create NAME --mode nat');
    expect(runner.sent[0]).toHaveLength(1);
    runner.verify();
  });

  it('an unreachable libvirt is exit 5 naming the URI', async () => {
    // virsh leaves its shell at once when it cannot connect.
    const r = await runKvmctl(['net', 'list'], stubSessionExit(new FakeRunner(), recorded('err-virsh-unreachable.stderr')));
    expect(r.code).toBe(5);
    expect(r.err).toContain(`cannot reach libvirt at ${URI}`);
    expect(r.out).toBe('');
  });

  it('loadNetworks without a session: a batch process a round, and a network removed between them is skipped', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [['net-list', '--all']], [recorded('net/virsh-net-list-all.txt')]);
    stubBatch(runner, LAB_NETWORKS.map((n) => ['net-dumpxml', '--network', n]), LAB_NETWORKS.map((n) => (n === 'fxn-iso' ? '' : recorded(`net/virsh-net-dumpxml-${n}.xml`))));
    expect((await loadNetworks(runner, URI, { leases: false })).map((n) => n.name)).toEqual(['default', 'fxn-br', 'fxn-nat', 'fxn-route']);
    expect(runner.calls).toHaveLength(2);
    runner.verify();
  });
});
