/**
 * net nat enable | disable | list over a recorded test namespace: bridge fxbr
 * (10.77.0.1/24), uplink fxup, Docker-like rules; firewall before and after a
 * real `net nat enable` (fixtures/recorded/net).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { type Command } from '../../../../../src/exec/command.js';
import { natRulesFor } from '../../../../../src/net/kvmctl-rules.js';
import { currentNetnsId } from '../../../../../src/net/netns-record.js';
import { recorded } from '../../../../support/harness.js';
import { stubLoadNetworks } from '../../../../support/net.js';

export const BEFORE = recorded('net/ns-iptables-save-before.txt');
export const AFTER = recorded('net/ns-iptables-save-nat-forwards.txt');
export const RULES = natRulesFor('fxbr', '10.77.0.0/24', 'fxup');
export const argv = (c: Command) => [c.program, ...c.args];

export function host(firewall: string, links = recorded('net/ns-ip-j-d-addr-show.json')): FakeRunner {
  return firewallHost(firewall).stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: links });
}

/** The firewall alone: what disable reads when kvmctl added no address to the bridge. */
export function firewallHost(firewall: string): FakeRunner {
  return new FakeRunner().stub(['iptables-save'], { stdout: firewall });
}

/** What enable reads before it looks at the firewall: the recorded namespace's links and routes, and the recorded lab's libvirt networks. */
export function checkedHost(links = recorded('net/ns-ip-j-d-addr-show.json')): FakeRunner {
  const runner = new FakeRunner()
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: links })
    .stub(['ip', '-j', 'route', 'show'], { stdout: recorded('net/ns-ip-j-route-show.json') })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: recorded('net/ns-ip-j-6-route-show.json') });
  return stubLoadNetworks(runner, { leases: false });
}

/** What enable reads: checkedHost and the firewall. */
export function enableHost(firewall: string, links = recorded('net/ns-ip-j-d-addr-show.json')): FakeRunner {
  return checkedHost(links).stub(['iptables-save'], { stdout: firewall });
}

export const ipForward = (v: '0' | '1') => ({ files: { '/proc/sys/net/ipv4/ip_forward': `${v}\n` } });

export async function stateFile(stateDir: string): Promise<string> {
  return join(stateDir, 'net', `nat-netns-${await currentNetnsId()}.json`);
}

export async function writeState(stateDir: string, state: unknown): Promise<void> {
  mkdirSync(join(stateDir, 'net'), { recursive: true });
  writeFileSync(await stateFile(stateDir), JSON.stringify(state));
}

export const DOCKER_RULES = ['POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE', 'DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'];
export const enable = ['net', 'nat', 'enable', '--bridge', 'fxbr', '--subnet', '10.77.0.0/24', '--out', 'fxup'];
