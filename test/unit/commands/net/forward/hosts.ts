/**
 * net forward add | list | delete over the recorded namespace firewall (tcp-2222
 * -> 10.77.0.2:22, udp-5300-5310 -> 10.77.0.3, Docker's DNAT of tcp 8080) and
 * the recorded lab (fxn-vm1 leased 10.213.0.227, fxn-vm2 reserved 10.213.0.20).
 */
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { recorded } from '../../../../support/harness.js';

export const BEFORE = recorded('net/ns-iptables-save-before.txt');
export const AFTER = recorded('net/ns-iptables-save-nat-forwards.txt');
export const on = { files: { '/proc/sys/net/ipv4/ip_forward': '1\n' } };
/** The recorded namespace: its firewall, and its listening sockets (sshd-like 0.0.0.0:22, [::]:8080, 127.0.0.1:9000, 198.51.100.1:3000, udp 5353). */
export const firewall = (text: string, sockets = recorded('net/ns-ss-H-ltnu.txt')) => new FakeRunner().stub(['iptables-save'], { stdout: text }).stub(['ss', '-H', '-ltnu'], { stdout: sockets }, Infinity);
export const inserts = (runner: FakeRunner) => runner.stub((c) => c.program === 'iptables' && c.args.includes('-I'), {}, 4);
