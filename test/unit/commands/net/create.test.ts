/** net create over the recorded lab: validation, overlap checks, idempotence, the plan it runs, rollback. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import type { Command } from '../../../../src/exec/command.js';
import { recorded, runKvmctl, URI, virshArgv as virsh } from '../../../support/harness.js';
import { stubLoadNetworks } from '../../../support/net.js';

const golden = (f: string) => readFileSync(new URL(`../../../fixtures/golden/network/${f}`, import.meta.url), 'utf8');

/** The lab's networks, and links/routes from the recorded lab or test namespace. */
function labHost(where: 'lab' | 'ns' = 'lab'): FakeRunner {
  const runner = stubLoadNetworks(new FakeRunner(), { leases: false });
  runner.stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: recorded(`net/${where}-ip-j-d-addr-show.json`) });
  runner.stub(['ip', '-j', 'route', 'show'], { stdout: recorded(`net/${where}-ip-j-route-show.json`) });
  runner.stub(['ip', '-j', '-6', 'route', 'show'], { stdout: where === 'ns' ? recorded('net/ns-ip-j-6-route-show.json') : '[]' });
  return runner;
}


describe('net create: rejected before anything runs (exit 2)', () => {
  it.each([
    [['--mode', 'bogus'], /argument 'bogus' is invalid/],
    [['--subnet', '10.0.0.0/24'], /required option '--mode <mode>' not specified/],
    [['--mode', 'nat', '--subnet', '10.10.0.5/24'], /host bits are set/],
    [['--mode', 'nat', '--subnet', '10.10.0.0/24', '--dhcp-range', '10.10.1.2-10.10.1.9'], /not inside the hosts of 10\.10\.0\.0\/24 after the gateway 10\.10\.0\.1/],
    [['--mode', 'nat', '--subnet', '10.10.0.0/24', '--dhcp-range', '10.10.0.1-10.10.0.9'], /not inside the hosts/],
    [['--mode', 'nat', '--subnet', '10.10.0.0/24', '--dhcp-range', '10.10.0.9-10.10.0.2'], /comes after/],
    [['--mode', 'nat', '--dhcp-range', '10.10.0.2-10.10.0.9'], /--dhcp-range needs --subnet/],
    [['--mode', 'nat', '--subnet', '10.10.0.0/24', '--dhcp-range', '10.10.0.2-10.10.0.9', '--no-dhcp'], /contradict/],
    [['--mode', 'bridge'], /--mode bridge needs --bridge-name/],
    [['--mode', 'bridge', '--bridge-name', 'br0', '--subnet', '10.0.0.0/24'], /--mode bridge does not take --subnet/],
    [['--mode', 'isolated', '--subnet', '10.0.0.0/24', '--forward-dev', 'eth0'], /--forward-dev needs --mode nat or route/],
    [['--mode', 'nat', '--bridge-name', 'virbr-way-too-long'], /invalid bridge name "virbr-way-too-long": longer than 15 bytes/],
    [['--mode', 'nat', '--domain', 'bad_domain!'], /invalid --domain/],
  ])('%j', async (args, message) => {
    const r = await runKvmctl(['net', 'create', 'lab', ...args], new FakeRunner());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.runner.calls).toEqual([]);
  });

  it('a bad network name', async () => {
    const r = await runKvmctl(['net', 'create', '-x', '--mode', 'nat'], new FakeRunner());
    expect(r.code).toBe(2);
    const s = await runKvmctl(['net', 'create', 'a/b', '--mode', 'nat'], new FakeRunner());
    expect(s.err).toContain(`invalid network name "a/b": it contains '/'`);
    expect(s.runner.calls).toEqual([]);
  });
});

describe('net create: conflicts (exit 4), nothing changed', () => {
  it.each([
    ['lab', '192.168.122.0/25', 'overlaps libvirt network "default" (192.168.122.0/24)'],
    ['lab', '10.213.0.128/25', 'overlaps libvirt network "fxn-nat" (10.213.0.0/24)'],
    ['ns', '198.51.100.0/24', 'overlaps address 198.51.100.1/24 of fxup'],
    ['ns', '203.0.113.0/25', 'overlaps route 203.0.113.0/24 dev fxup'],
  ] as const)('%s: subnet %s %s', async (where, subnet, why) => {
    const r = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', subnet], labHost(where));
    expect(r.code).toBe(4);
    expect(r.err).toBe(`kvmctl: error: cannot create network "lab": subnet ${subnet} ${why}\nhint: choose a free subnet, e.g. --subnet 192.168.100.0/24\n`);
    expect(r.changes).toEqual([]);
  });

  it('an existing network with another definition lists the differences', async () => {
    const r = await runKvmctl(['net', 'create', 'fxn-nat', '--mode', 'nat', '--subnet', '10.213.0.0/24'], stubLoadNetworks(new FakeRunner(), { leases: false }));
    expect(r.code).toBe(4);
    expect(r.err).toContain('network "fxn-nat" already exists with a different definition (DNS domain: asked none, defined fx.local)');
    expect(r.changes).toEqual([]);
  });

  it('a bridge name libvirt already uses, or an existing interface', async () => {
    const a = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24', '--bridge-name', 'virbr1'], labHost());
    expect(a.code).toBe(4);
    expect(a.err).toContain('bridge name virbr1 is already used by libvirt network "fxn-nat"');
    const b = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24', '--bridge-name', 'fxbr'], labHost('ns'));
    expect(b.code).toBe(4);
    expect(b.err).toContain('an interface named fxbr already exists on this host');
    expect([...a.changes, ...b.changes]).toEqual([]);
  });

  it('bridge mode needs an existing bridge (exit 3); a missing forward device is exit 3', async () => {
    const a = await runKvmctl(['net', 'create', 'lan', '--mode', 'bridge', '--bridge-name', 'br9'], labHost());
    expect(a.code).toBe(3);
    expect(a.err).toContain('bridge "br9" not found');
    const b = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24', '--forward-dev', 'eth9'], labHost());
    expect(b.code).toBe(3);
    expect(b.err).toContain('--forward-dev eth9: no such interface on this host');
  });
});

describe('net create: the plan', () => {
  it('defines (validated XML on stdin), starts and autostarts, then reports the bridge libvirt chose', async () => {
    const runner = labHost();
    runner.stub(virsh('net-define', '--file', '/dev/stdin', '--validate'), { stdout: 'Network lab defined from /dev/stdin\n' });
    runner.stub(virsh('net-start', '--network', 'lab'), {});
    runner.stub(virsh('net-autostart', '--network', 'lab'), {});
    runner.stub(virsh('net-dumpxml', '--network', 'lab'), { stdout: golden('nat.xml').replace('<forward mode="nat"/>', "<forward mode='nat'/><bridge name='virbr4' stp='on' delay='0'/>") });
    const r = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('network lab created (nat, subnet 10.10.0.0/24, gateway 10.10.0.1, DHCP 10.10.0.2-10.10.0.254, bridge virbr4); started, autostart on\n');
    const define = r.runner.calls.find((c: Command) => c.args.includes('net-define'));
    expect(define?.input).toBe(golden('nat.xml'));
    expect(r.changes).toEqual([
      `virsh -c ${URI} net-define --file /dev/stdin --validate`,
      `virsh -c ${URI} net-start --network lab`,
      `virsh -c ${URI} net-autostart --network lab`,
    ]);
    r.runner.verify();
  });

  it('without --subnet picks the first free 192.168.N.0/24; --no-start --no-autostart only defines', async () => {
    const runner = labHost();
    runner.stub(virsh('net-define', '--file', '/dev/stdin', '--validate'), {});
    runner.stub(virsh('net-dumpxml', '--network', 'lab'), { stdout: golden('nat.xml') });
    const r = await runKvmctl(['net', 'create', 'lab', '--mode', 'isolated', '--no-start', '--no-autostart', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'lab', changed: true, subnet: '192.168.100.0/24', gateway: '192.168.100.1', active: false, autostart: false });
    expect(r.changes).toEqual([`virsh -c ${URI} net-define --file /dev/stdin --validate`]);
  });

  it('--print-xml prints the XML and changes nothing', async () => {
    const r = await runKvmctl(['net', 'create', 'lab2', '--mode', 'nat', '--subnet', '10.20.0.0/16', '--dhcp-range', '10.20.1.0-10.20.1.255', '--bridge-name', 'virbr20', '--forward-dev', 'virbr0', '--domain', 'lab.local', '--print-xml'], labHost());
    expect(r.code).toBe(0);
    expect(r.out).toBe(golden('nat-full.xml').replace('dev="eth0"', 'dev="virbr0"'));
    expect(r.changes).toEqual([]);
  });

  it('--dry-run prints what it would run and runs only reads', async () => {
    const r = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24', '--dry-run'], labHost());
    expect(r.code).toBe(0);
    expect(r.err).toContain(`[dry-run] would run: virsh -c ${URI} net-define --file /dev/stdin --validate\n[dry-run] with input:\n<network>`);
    expect(r.err).toContain(`[dry-run] would run: virsh -c ${URI} net-start --network lab\n[dry-run] would run: virsh -c ${URI} net-autostart --network lab\n`);
    expect(r.runner.calls.every((c) => !c.mutates)).toBe(true);
  });

  it('a start that fails undefines the network again: exit 7', async () => {
    const runner = labHost();
    runner.stub(virsh('net-define', '--file', '/dev/stdin', '--validate'), {});
    runner.stub(virsh('net-start', '--network', 'lab'), { exitCode: 1, stderr: "error: Failed to start network lab\nerror: internal error: Network is already in use by interface virbr9\n" });
    runner.stub(virsh('net-undefine', '--network', 'lab'), {});
    const r = await runKvmctl(['net', 'create', 'lab', '--mode', 'nat', '--subnet', '10.10.0.0/24'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toBe(
      'kvmctl: error: net create lab failed: network "lab" could not start: internal error: Network is already in use by interface virbr9; everything it had done was undone\n' +
        "hint: check that its bridge name and subnet are free (kvmctl bridge list, ip route) and see libvirtd's log for dnsmasq errors\n",
    );
    expect(r.changes).toEqual([`virsh -c ${URI} net-define --file /dev/stdin --validate`, `virsh -c ${URI} net-start --network lab`, `virsh -c ${URI} net-undefine --network lab`]);
    r.runner.verify();
  });
});

describe('net create: re-running', () => {
  it('with the same spec is "unchanged", exit 0, no changes', async () => {
    const r = await runKvmctl(['net', 'create', 'fxn-nat', '--mode', 'nat', '--subnet', '10.213.0.0/24', '--domain', 'fx.local'], stubLoadNetworks(new FakeRunner(), { leases: false }));
    expect(r.code).toBe(0);
    expect(r.out).toBe('network fxn-nat unchanged\n');
    expect(r.changes).toEqual([]);
    expect(r.runner.calls).toHaveLength(2);
  });

  it('without --subnet accepts the subnet it has', async () => {
    const r = await runKvmctl(['net', 'create', 'fxn-route', '--mode', 'route', '--dhcp-range', '10.214.0.100-10.214.0.199', '--no-autostart'], new FakeRunner());
    expect(r.code).toBe(2);
    expect(r.err).toContain('--dhcp-range needs --subnet');
    const s = await runKvmctl(['net', 'create', 'fxn-route', '--mode', 'route', '--subnet', '10.214.0.0/24', '--dhcp-range', '10.214.0.100-10.214.0.199', '--no-autostart'], stubLoadNetworks(new FakeRunner(), { leases: false }));
    expect(s.code).toBe(0);
    expect(s.out).toBe('network fxn-route unchanged\n');
    const t = await runKvmctl(['net', 'create', 'fxn-br', '--mode', 'bridge', '--bridge-name', 'fxbr0', '--no-autostart'], stubLoadNetworks(new FakeRunner(), { leases: false }));
    expect(t.out).toBe('network fxn-br unchanged\n');
  });

  it('of a defined but stopped network starts it and turns autostart on', async () => {
    const runner = stubLoadNetworks(new FakeRunner(), { leases: false });
    runner.stub(virsh('net-start', '--network', 'fxn-iso'), {});
    runner.stub(virsh('net-autostart', '--network', 'fxn-iso'), {});
    const r = await runKvmctl(['net', 'create', 'fxn-iso', '--mode', 'isolated', '--subnet', '10.215.0.0/24', '--no-dhcp'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('network fxn-iso already defined; started, autostart on\n');
    r.runner.verify();
  });

  it('a start that libvirt refuses keeps libvirt\'s class (exit 5), says which network could not start, changes nothing else', async () => {
    const runner = stubLoadNetworks(new FakeRunner(), { leases: false });
    // Recorded for a network that was already active: here another client started fxn-iso after kvmctl read it.
    runner.stub(virsh('net-start', '--network', 'fxn-iso'), { exitCode: 1, stderr: recorded('net/err-virsh-net-start-active.stderr') });
    const r = await runKvmctl(['net', 'create', 'fxn-iso', '--mode', 'isolated', '--subnet', '10.215.0.0/24', '--no-dhcp'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toBe(
      'kvmctl: error: network "fxn-iso" could not start: Requested operation is not valid: network is already active\n' +
        "hint: check that its bridge name and subnet are free (kvmctl bridge list, ip route) and see libvirtd's log for dnsmasq errors\n",
    );
    expect(r.changes).toEqual([`virsh -c ${URI} net-start --network fxn-iso`]);
    r.runner.verify();
  });
});
