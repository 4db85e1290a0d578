/** kvmctl net forward add over a recorded namespace and the recorded lab (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../../support/schemas.js';
import { describeListener, listenersInRange, parseSsListening } from '../../../../../src/net/sockets.js';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { BEFORE, AFTER, on, firewall, inserts } from './hosts.js';
import { recorded, runKvmctl } from '../../../../support/harness.js';
import { stubLoadDomains, stubLoadNetworks } from '../../../../support/net.js';

describe('net forward add', () => {
  it('to an address: four tagged rules, libvirt not asked', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], inserts(firewall(BEFORE)), on);
    expect(r).toMatchObject({ err: '', code: 0, out: 'forward tcp-2222: host port 2222/tcp -> 10.77.0.2:22\n', changes: [
      'iptables -w 30 -t nat -I PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.77.0.2:22',
      "iptables -w 30 -t nat -I OUTPUT '!' -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 2222 -m comment --comment kvmctl:fwd:tcp-2222 -j DNAT --to-destination 10.77.0.2:22",
      'iptables -w 30 -t filter -I FORWARD -d 10.77.0.2/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
      'iptables -w 30 -t filter -I FORWARD -s 10.77.0.2/32 -p tcp -m tcp --sport 22 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT',
    ] });
    expect(r.argvs.filter((a) => a.startsWith('virsh'))).toEqual([]);
  });

  it('warns when ip_forward is off', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], inserts(firewall(BEFORE)), { files: { '/proc/sys/net/ipv4/ip_forward': '0\n' } });
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: net.ipv4.ip_forward is off here, so forwarded traffic does not pass');
  });

  it('the same forward again is unchanged; another target or an overlapping port is exit 4', async () => {
    const same = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], firewall(AFTER), on);
    expect(same).toMatchObject({ code: 0, out: 'forward tcp-2222 -> 10.77.0.2:22 unchanged\n', changes: [] });
    const other = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.9:22'], firewall(AFTER), on);
    expect(other.code).toBe(4);
    expect(other.err).toBe('kvmctl: error: tcp port 2222 is already forwarded to 10.77.0.2:22\nhint: delete it first: kvmctl net forward delete 2222 --proto tcp\n');
    const overlap = await runKvmctl(['net', 'forward', 'add', '--port', '5305', '--to', '10.77.0.9:53', '--proto', 'udp'], firewall(AFTER), on);
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('udp port(s) 5305 overlap kvmctl forward udp-5300-5310');
    expect([...other.changes, ...overlap.changes]).toEqual([]);
  });

  it('a port another tool forwards is exit 4, naming the owner', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '8000-8100', '--to', '10.77.0.9'], firewall(BEFORE), on);
    expect(r.code).toBe(4);
    expect(r.err).toContain('tcp port 8080 is already forwarded to 172.17.0.2:80 by a rule of docker (chain DOCKER)');
    expect(r.changes).toEqual([]);
  });

  it('to a VM: its reservation, or its lease with a warning', async () => {
    const reserved = await runKvmctl(['net', 'forward', 'add', '--port', '8080', '--to', 'fxn-vm2:80', '--proto', 'udp'], inserts(stubLoadDomains(stubLoadNetworks(firewall(BEFORE), { leases: true }))), on);
    expect(reserved.err).toBe('');
    expect(reserved.out).toBe('forward udp-8080: host port 8080/udp -> 10.213.0.20:80 (VM fxn-vm2, network fxn-nat)\n');
    const leased = await runKvmctl(['net', 'forward', 'add', '--port', '2201', '--to', 'fxn-vm1', '-o', 'json'], inserts(stubLoadDomains(stubLoadNetworks(firewall(BEFORE), { leases: true }))), on);
    expect(parseOutput(['net', 'forward', 'add'], leased.out)).toEqual({ changed: true, id: 'tcp-2201', protocol: 'tcp', port: { first: 2201, last: 2201 }, toAddress: '10.213.0.227', toPort: { first: 22, last: 22 }, network: 'fxn-nat', vm: 'fxn-vm1', complete: true });
    expect(leased.err).toBe("warning: 10.213.0.227 is VM fxn-vm1's current lease, not a reservation: it may change; pin it with kvmctl net reserve fxn-nat --mac MAC --ip 10.213.0.227\n");
  });

  it('an unknown VM or network is exit 3; a VM not on the network is exit 5; an address outside --net is exit 2', async () => {
    const lab = () => stubLoadDomains(stubLoadNetworks(new FakeRunner(), { leases: true }));
    const vm = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', 'nosuch'], lab(), on);
    expect(vm.code).toBe(3);
    expect(vm.err).toContain('VM "nosuch" not found');
    const net = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', 'fxn-vm1', '--net', 'nosuch'], lab(), on);
    expect(net.code).toBe(3);
    expect(net.err).toContain('network "nosuch" not found');
    const off = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', 'fxn-vm1', '--net', 'fxn-route'], lab(), on);
    expect(off.code).toBe(5);
    expect(off.err).toContain('VM fxn-vm1 has no interface on network fxn-route');
    const outside = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22', '--net', 'fxn-nat'], lab(), on);
    expect(outside.code).toBe(2);
    expect(outside.err).toContain("10.77.0.2 is not in network fxn-nat's subnet");
    expect([...vm.changes, ...net.changes, ...off.changes, ...outside.changes]).toEqual([]);
  });

  it('a failing rule removes the ones this run added: exit 7', async () => {
    const runner = firewall(BEFORE)
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 2)
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.\n' })
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 2);
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], runner, on);
    expect(r.code).toBe(7);
    expect(r.changes.slice(3).map((c) => c.split(' -D ')[1]?.split(' ')[0])).toEqual(['OUTPUT', 'PREROUTING']);
    r.runner.verify();
  });
});

describe('net forward add and the host\'s own services', () => {
  const sockets = parseSsListening(recorded('net/ns-ss-H-ltnu.txt'));

  it('reads every listening socket ss printed', () => {
    expect(sockets.map(describeListener)).toEqual(['udp 0.0.0.0:5353', 'tcp 127.0.0.1:9000', 'tcp 0.0.0.0:22', 'tcp 198.51.100.1:3000', 'tcp *:8080']);
    expect(parseSsListening(recorded('net/lab-ss-H-ltnu.txt')).map(describeListener)).toEqual(['udp 192.168.122.1:53', 'udp 0.0.0.0%virbr0:67', 'tcp 192.168.122.1:53']);
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
    const r = await runKvmctl(['net', 'forward', 'add', '--port', port, '--to', to, '--proto', proto], firewall(BEFORE), on);
    expect(r.code, r.err).toBe(5);
    expect(r.err).toContain(`kvmctl: error: ${proto} port ${port}: a process of this host listens on ${socket}; a forward would divert its connections to 10.77.0.9:${port}\n`);
    expect(r.err).toContain(`hint: choose a --port no host service uses, or forward it anyway with: kvmctl net forward add --port ${port} --to ${to} --proto ${proto} --capture-host-port\n`);
    expect(r.changes).toEqual([]);
  });

  it('--capture-host-port forwards it anyway, with a warning', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '22', '--to', '10.77.0.9:22', '--capture-host-port'], inserts(firewall(BEFORE)), on);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('tcp port 22 is forwarded although tcp 0.0.0.0:22 listens there (--capture-host-port)');
    expect(r.changes).toHaveLength(4);
  });

  it('a port only loopback listens on is forwarded', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '9000', '--to', '10.77.0.9:9000'], inserts(firewall(BEFORE)), on);
    expect(r.code, r.err).toBe(0);
  });
});

describe('net forward add and delete for another host', () => {
  const SSH = 'qemu+ssh://root@kvm1/system';
  it('over qemu+ssh: refused (exit 5) before anything is run, naming the host and the command to run there', async () => {
    const add = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], new FakeRunner(), { uri: SSH });
    expect(add.code).toBe(5);
    expect(add.err).toBe(
      'kvmctl: error: net forward add tcp-2222: kvmctl does not change the bridges, addresses or firewall of another host (root@kvm1); nothing was changed\n' +
        'hint: run the command on that host itself: ssh root@kvm1 kvmctl net forward add --port 2222 --to 10.77.0.2:22 --proto tcp\n',
    );
    const del = await runKvmctl(['net', 'forward', 'delete', 'udp-5353'], new FakeRunner(), { uri: SSH });
    expect(del.code).toBe(5);
    expect(del.err).toContain('kvmctl: error: net forward delete udp-5353: kvmctl does not change the bridges, addresses or firewall of another host (root@kvm1); nothing was changed\nhint: run the command on that host itself: ssh root@kvm1 kvmctl net forward delete udp-5353\n');
    expect([...add.argvs, ...del.argvs]).toEqual([]);
  });

  it('over qemu+tcp: refused with the reason, nothing run', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '2222', '--to', '10.77.0.2:22'], new FakeRunner(), { uri: 'qemu+tcp://kvm1/system' });
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/^kvmctl: error: net forward add tcp-2222: not run, because qemu\+tcp:\/\/kvm1\/system names another host and qemu\+tcp carries only libvirt's own protocol/);
    expect(r.argvs).toEqual([]);
  });

  it('a malformed --port is still a usage error (exit 2) first', async () => {
    const r = await runKvmctl(['net', 'forward', 'add', '--port', '99999', '--to', '10.77.0.2:22'], new FakeRunner(), { uri: SSH });
    expect(r.code).toBe(2);
    expect(r.argvs).toEqual([]);
  });
});
