/**
 * net forward add | list | delete over the recorded namespace firewall (tcp-2222
 * -> 10.77.0.2:22, udp-5300-5310 -> 10.77.0.3, Docker's DNAT of tcp 8080) and
 * the recorded lab (fxn-vm1 leased 10.213.0.227, fxn-vm2 reserved 10.213.0.20).
 */
import { describe, expect, it } from 'vitest';
import { describeListener, listenersInRange, parseSsListening } from '../../src/net/sockets.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { parsePortRange, parseTarget } from '../../src/commands/net/forward/target.js';
import { cli, rec, stubBatch, stubLoadDomains, stubLoadNetworks } from './net-harness.js';

const BEFORE = rec('ns-iptables-save-before.txt');
const AFTER = rec('ns-iptables-save-nat-forwards.txt');
const on = { files: { '/proc/sys/net/ipv4/ip_forward': '1\n' } };
/** The recorded namespace: its firewall, and its listening sockets (sshd-like 0.0.0.0:22, [::]:8080, 127.0.0.1:9000, 198.51.100.1:3000, udp 5353). */
const firewall = (text: string, sockets = rec('ns-ss-H-ltnu.txt')) => new FakeRunner().stub(['iptables-save'], { stdout: text }).stub(['ss', '-H', '-ltnu'], { stdout: sockets }, Infinity);
const inserts = (runner: FakeRunner) => runner.stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 4);

describe('--port and --to', () => {
  it('ports are 1-65535 and ranges are in order', () => {
    expect(parsePortRange('2222', '--port')).toEqual({ start: 2222, end: 2222 });
    expect(parsePortRange('8000-8010', '--port')).toEqual({ start: 8000, end: 8010 });
    expect(() => parsePortRange('0', '--port')).toThrow('invalid --port 0: 0 is not a port (1-65535)');
    expect(() => parsePortRange('65536', '--port')).toThrow(/65536 is not a port/);
    expect(() => parsePortRange('10-5', '--port')).toThrow('invalid --port 10-5: the range is not in order');
    expect(() => parsePortRange('ssh', '--port')).toThrow('invalid --port "ssh"');
    expect(() => parsePortRange('1-2-3', '--port')).toThrow(/invalid --port/);
  });

  it('VM[:PORT] defaults to 22; IP needs a port; a range keeps its ports', () => {
    const one = { start: 2222, end: 2222 };
    const range = { start: 8000, end: 8010 };
    expect(parseTarget('web1', one)).toEqual({ kind: 'vm', vm: 'web1', ports: { start: 22, end: 22 } });
    expect(parseTarget('web1:80', one)).toEqual({ kind: 'vm', vm: 'web1', ports: { start: 80, end: 80 } });
    expect(parseTarget('10.0.0.5:22', one)).toEqual({ kind: 'address', address: '10.0.0.5', ports: { start: 22, end: 22 } });
    expect(parseTarget('10.0.0.5', range)).toEqual({ kind: 'address', address: '10.0.0.5', ports: range });
    expect(parseTarget('10.0.0.5:8000-8010', range)).toEqual({ kind: 'address', address: '10.0.0.5', ports: range });
    expect(parseTarget('web1', range)).toEqual({ kind: 'vm', vm: 'web1', ports: range });
    expect(() => parseTarget('10.0.0.5', one)).toThrow('--to 10.0.0.5: an address needs a port');
    expect(() => parseTarget('10.0.0.5:9000-9010', range)).toThrow(/a range of ports forwards to the same ports/);
    expect(() => parseTarget('10.0.0.5:22-23', one)).toThrow(/one host port forwards to one port/);
    expect(() => parseTarget('10.0.0.300:22', one)).toThrow(/10\.0\.0\.300 is not an IPv4 address/);
    expect(() => parseTarget('we/b:22', one)).toThrow(/invalid VM name/);
  });

  it.each([
    [['--port', '0', '--to', '10.77.0.2:22'], 'invalid --port 0: 0 is not a port (1-65535)'],
    [['--port', '22', '--to', '10.77.0.2'], 'an address needs a port'],
    [['--port', '22', '--to', '10.77.0.2:22', '--proto', 'sctp'], "argument 'sctp' is invalid"],
    [['--port', '22', '--to', '10.77.0.2:22', '--net', '-x'], "invalid network name \"-x\": it starts with '-'"],
  ])('add %j is exit 2 before anything runs', async (args, message) => {
    const r = await cli(['net', 'forward', 'add', ...args], new FakeRunner());
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.runner.calls).toEqual([]);
  });
});

describe('net forward add', () => {
  it('to an address: four tagged rules, libvirt not asked', async () => {
    const r = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], inserts(firewall(BEFORE)), on);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('forward tcp-2222: host port 2222/tcp -> 10.77.0.2:22\n');
    expect(r.changes).toEqual([
      'iptables -w 30 -t nat -I PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.77.0.2:22',
      "iptables -w 30 -t nat -I OUTPUT '!' -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.77.0.2:22",
      'iptables -w 30 -t filter -I FORWARD -d 10.77.0.2/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -s 10.77.0.2/32 -p tcp -m tcp --sport 22 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
    ]);
    expect(r.argvs.filter((a) => a.startsWith('virsh'))).toEqual([]);
  });

  it('warns when ip_forward is off', async () => {
    const r = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], inserts(firewall(BEFORE)), { files: { '/proc/sys/net/ipv4/ip_forward': '0\n' } });
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: net.ipv4.ip_forward is off here, so forwarded traffic does not pass');
  });

  it('the same forward again is unchanged; another target or an overlapping port is exit 4', async () => {
    const same = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], firewall(AFTER), on);
    expect(same).toMatchObject({ code: 0, out: 'forward tcp-2222 -> 10.77.0.2:22 unchanged\n', changes: [] });
    const other = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.9:22'], firewall(AFTER), on);
    expect(other.code).toBe(4);
    expect(other.err).toBe('kvmctl: error: tcp port 2222 is already forwarded to 10.77.0.2:22\nhint: delete it first: kvmctl net forward delete 2222 --proto tcp\n');
    const overlap = await cli(['net', 'forward', 'add', '--port', '5305', '--to', '10.77.0.9:53', '--proto', 'udp'], firewall(AFTER), on);
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('udp port(s) 5305 overlap kvmctl forward udp-5300-5310');
    expect([...other.changes, ...overlap.changes]).toEqual([]);
  });

  it('a port another tool forwards is exit 4, naming the owner', async () => {
    const r = await cli(['net', 'forward', 'add', '--port', '8000-8100', '--to', '10.77.0.9'], firewall(BEFORE), on);
    expect(r.code).toBe(4);
    expect(r.err).toContain('tcp port 8080 is already forwarded to 172.17.0.2:80 by a rule of docker (chain DOCKER)');
    expect(r.changes).toEqual([]);
  });

  it('to a VM: its reservation, or its lease with a warning', async () => {
    const reserved = await cli(['net', 'forward', 'add', '--port', '8080', '--to', 'fxn-vm2:80', '--proto', 'udp'], inserts(stubLoadDomains(stubLoadNetworks(firewall(BEFORE), { leases: true }))), on);
    expect(reserved.err).toBe('');
    expect(reserved.out).toBe('forward udp-8080: host port 8080/udp -> 10.213.0.20:80 (VM fxn-vm2, network fxn-nat)\n');
    const leased = await cli(['net', 'forward', 'add', '--port', '2201', '--to', 'fxn-vm1', '-o', 'json'], inserts(stubLoadDomains(stubLoadNetworks(firewall(BEFORE), { leases: true }))), on);
    expect(JSON.parse(leased.out)).toEqual({ id: 'tcp-2201', protocol: 'tcp', port: '2201', toAddress: '10.213.0.227', toPort: '22', vm: 'fxn-vm1', network: 'fxn-nat', changed: true });
    expect(leased.err).toBe("warning: 10.213.0.227 is VM fxn-vm1's current lease, not a reservation: it may change; pin it with kvmctl net reserve fxn-nat --mac MAC --ip 10.213.0.227\n");
  });

  it('an unknown VM or network is exit 3; a VM not on the network is exit 5; an address outside --net is exit 2', async () => {
    const lab = () => stubLoadDomains(stubLoadNetworks(new FakeRunner(), { leases: true }));
    const vm = await cli(['net', 'forward', 'add', '--port', '2222', '--to', 'nosuch'], lab(), on);
    expect(vm.code).toBe(3);
    expect(vm.err).toContain('VM "nosuch" not found');
    const net = await cli(['net', 'forward', 'add', '--port', '2222', '--to', 'fxn-vm1', '--net', 'nosuch'], lab(), on);
    expect(net.code).toBe(3);
    expect(net.err).toContain('network "nosuch" not found');
    const off = await cli(['net', 'forward', 'add', '--port', '2222', '--to', 'fxn-vm1', '--net', 'fxn-route'], lab(), on);
    expect(off.code).toBe(5);
    expect(off.err).toContain('VM fxn-vm1 has no interface on network fxn-route');
    const outside = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22', '--net', 'fxn-nat'], lab(), on);
    expect(outside.code).toBe(2);
    expect(outside.err).toContain("10.77.0.2 is not in network fxn-nat's subnet");
    expect([...vm.changes, ...net.changes, ...off.changes, ...outside.changes]).toEqual([]);
  });

  it('a failing rule removes the ones this run added: exit 7', async () => {
    const runner = firewall(BEFORE)
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 2)
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.\n' })
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 2);
    const r = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], runner, on);
    expect(r.code).toBe(7);
    expect(r.changes.slice(3).map((c) => c.split(' -D ')[1]?.split(' ')[0])).toEqual(['OUTPUT', 'PREROUTING']);
    r.runner.verify();
  });
});

describe('net forward list', () => {
  it('lists the forwards, with VM and network when libvirt knows the target', async () => {
    const withVm = AFTER.replace(/10\.77\.0\.2\b/g, '10.213.0.20');
    const r = await cli(['net', 'forward', 'list'], stubLoadDomains(stubLoadNetworks(firewall(withVm), { leases: true })));
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'ID PROTO PORT TO VM NETWORK COMPLETE',
      'udp-5300-5310 udp 5300-5310 10.77.0.3:5300-5310 - - yes',
      'tcp-2222 tcp 2222 10.213.0.20:22 fxn-vm2 fxn-nat yes',
      '',
    ]);
  });

  it('without libvirt the forwards are still listed, with a warning', async () => {
    const runner = firewall(AFTER);
    stubBatch(runner, [['net-list', '--all']], [''], "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n");
    runner.stub((c) => c.program === 'virsh', { stderr: 'error: failed to connect to the hypervisor\n' }, Infinity);
    const r = await cli(['net', 'forward', 'list', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).map((f: { id: string }) => f.id)).toEqual(['udp-5300-5310', 'tcp-2222']);
    expect(r.err).toMatch(/^warning: VM and network names are not shown: cannot reach libvirt at qemu:\/\/\/system/);
  });

  it('makes the same number of calls for 1 forward and for 200', async () => {
    for (const count of [1, 200]) {
      const lines = Array.from({ length: count }, (_, i) => `-A PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport ${10000 + i} -m comment --comment "kvmctl:fwd:tcp-${10000 + i}" -j DNAT --to-destination 10.213.0.20:22`);
      const save = `*nat\n:PREROUTING ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n`;
      const r = await cli(['net', 'forward', 'list', '-o', 'json'], stubLoadDomains(stubLoadNetworks(firewall(save), { leases: true })));
      expect(JSON.parse(r.out)).toHaveLength(count);
      expect(r.runner.calls).toHaveLength(5);
    }
  });
});

describe('net forward delete', () => {
  it('removes every rule tagged for the forward', async () => {
    const runner = firewall(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 4);
    const r = await cli(['net', 'forward', 'delete', '5300-5310', '--proto', 'udp'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('forward udp-5300-5310 deleted (4 rules removed)\n');
    expect(r.changes).toEqual([
      'iptables -w 30 -t filter -D FORWARD -s 10.77.0.3/32 -p udp -m udp --sport 5300:5310 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:udp-5300-5310 -j ACCEPT',
      'iptables -w 30 -t filter -D FORWARD -d 10.77.0.3/32 -p udp -m udp --dport 5300:5310 -m conntrack --ctstate DNAT -m comment --comment kvmctl:fwd:udp-5300-5310 -j ACCEPT',
      'iptables -w 30 -t nat -D PREROUTING -p udp -m addrtype --dst-type LOCAL -m udp --dport 5300:5310 -m comment --comment kvmctl:fwd:udp-5300-5310 -j DNAT --to-destination 10.77.0.3',
      "iptables -w 30 -t nat -D OUTPUT '!' -d 127.0.0.0/8 -p udp -m addrtype --dst-type LOCAL -m udp --dport 5300:5310 -m comment --comment kvmctl:fwd:udp-5300-5310 -j DNAT --to-destination 10.77.0.3",
    ]);
  });

  it('an unknown forward is exit 3; Docker\'s 8080 is not kvmctl\'s to delete', async () => {
    const r = await cli(['net', 'forward', 'delete', '8080'], firewall(AFTER));
    expect(r.code).toBe(3);
    expect(r.err).toBe('kvmctl: error: no kvmctl port forward tcp-8080 (tcp port 8080)\nhint: list them with: kvmctl net forward list\n');
    expect(r.changes).toEqual([]);
  });

  it('a delete that fails midway puts back what it removed: exit 7', async () => {
    const runner = firewall(AFTER)
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), { exitCode: 1, stderr: rec('err-iptables-D-missing.stderr') })
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), {});
    const r = await cli(['net', 'forward', 'delete', '2222'], runner);
    expect(r.code).toBe(7);
    expect(r.changes[2]).toBe('iptables -w 30 -t filter -I FORWARD -s 10.77.0.2/32 -p tcp -m tcp --sport 22 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT');
    r.runner.verify();
  });
});

describe('net forward add and the host\'s own services', () => {
  const sockets = parseSsListening(rec('ns-ss-H-ltnu.txt'));

  it('reads every listening socket ss printed', () => {
    expect(sockets.map(describeListener)).toEqual(['udp 0.0.0.0:5353', 'tcp 127.0.0.1:9000', 'tcp 0.0.0.0:22', 'tcp 198.51.100.1:3000', 'tcp *:8080']);
    expect(parseSsListening(rec('lab-ss-H-ltnu.txt')).map(describeListener)).toEqual(['udp 192.168.122.1:53', 'udp 0.0.0.0%virbr0:67', 'tcp 192.168.122.1:53']);
    // Loopback-only listeners cannot be reached through a forward's DNAT rules.
    expect(listenersInRange(sockets, 'tcp', { start: 9000, end: 9000 })).toEqual([]);
    expect(listenersInRange(sockets, 'udp', { start: 22, end: 22 })).toEqual([]);
  });

  it.each([
    ['22', 'tcp', 'tcp 0.0.0.0:22'],
    ['20-25', 'tcp', 'tcp 0.0.0.0:22'],
    ['3000', 'tcp', 'tcp 198.51.100.1:3000'],
    ['2990-3010', 'tcp', 'tcp 198.51.100.1:3000'],
    ['5353', 'udp', 'udp 0.0.0.0:5353'],
  ])('--port %s/%s where a host process listens is exit 5, naming the socket; nothing runs', async (port, proto, socket) => {
    const to = port.includes('-') ? '10.77.0.9' : `10.77.0.9:${port}`;
    const r = await cli(['net', 'forward', 'add', '--port', port, '--to', to, '--proto', proto], firewall(BEFORE), on);
    expect(r.code, r.err).toBe(5);
    expect(r.err).toContain(`kvmctl: error: ${proto} port ${port}: a process of this host listens on ${socket}; a forward would divert its connections to 10.77.0.9:${port}\n`);
    expect(r.err).toContain(`hint: choose a --port no host service uses, or forward it anyway with: kvmctl net forward add --port ${port} --to ${to} --proto ${proto} --capture-host-port\n`);
    expect(r.changes).toEqual([]);
  });

  it('--capture-host-port forwards it anyway, with a warning', async () => {
    const r = await cli(['net', 'forward', 'add', '--port', '22', '--to', '10.77.0.9:22', '--capture-host-port'], inserts(firewall(BEFORE)), on);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('tcp port 22 is forwarded although tcp 0.0.0.0:22 listens there (--capture-host-port)');
    expect(r.changes).toHaveLength(4);
  });

  it('a port only loopback listens on is forwarded', async () => {
    const r = await cli(['net', 'forward', 'add', '--port', '9000', '--to', '10.77.0.9:9000'], inserts(firewall(BEFORE)), on);
    expect(r.code, r.err).toBe(0);
  });
});
