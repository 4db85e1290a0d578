/** kvmctl net forward delete over a recorded firewall (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { AFTER, firewall } from './hosts.js';
import { FakeRunner, recorded, runKvmctl } from '../../../../support/harness.js';

describe('net forward delete', () => {
  it('removes every rule tagged for the forward', async () => {
    const runner = firewall(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 4);
    const r = await runKvmctl(['net', 'forward', 'delete', '5300-5310', '--proto', 'udp'], runner);
    expect(r).toMatchObject({ code: 0, out: 'forward udp-5300-5310 deleted (4 rules removed)\n', changes: [
      'iptables -w 30 -t filter -D FORWARD -s 10.77.0.3/32 -p udp -m udp --sport 5300:5310 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:udp-5300-5310 -j ACCEPT',
      'iptables -w 30 -t filter -D FORWARD -d 10.77.0.3/32 -p udp -m udp --dport 5300:5310 -m conntrack --ctstate DNAT -m comment --comment kvmctl:fwd:udp-5300-5310 -j ACCEPT',
      'iptables -w 30 -t nat -D PREROUTING -p udp -m addrtype --dst-type LOCAL -m udp --dport 5300:5310 -m comment --comment kvmctl:fwd:udp-5300-5310 -j DNAT --to-destination 10.77.0.3',
      "iptables -w 30 -t nat -D OUTPUT '!' -d 127.0.0.0/8 -p udp -m addrtype --dst-type LOCAL -m udp --dport 5300:5310 -m comment --comment kvmctl:fwd:udp-5300-5310 -j DNAT --to-destination 10.77.0.3",
    ] });
  });

  it('an unknown forward is exit 3; Docker\'s 8080 is not kvmctl\'s to delete', async () => {
    const r = await runKvmctl(['net', 'forward', 'delete', '8080'], firewall(AFTER));
    expect(r).toMatchObject({ code: 3, err: 'kvmctl: error: no kvmctl port forward tcp-8080\nhint: list them with: kvmctl net forward list\n', changes: [] });
  });

  it('takes the ID net forward list shows (its protocol comes with it)', async () => {
    const runner = firewall(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 4);
    const r = await runKvmctl(['net', 'forward', 'delete', 'udp-5300-5310'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('forward udp-5300-5310 deleted (4 rules removed)\n');
    expect(r.changes).toHaveLength(4);
    expect(r.changes.every((c) => c.includes('kvmctl:fwd:udp-5300-5310'))).toBe(true);
  });

  it('an ID that contradicts --proto is exit 2, before the firewall is read', async () => {
    const r = await runKvmctl(['net', 'forward', 'delete', 'tcp-2222', '--proto', 'udp'], new FakeRunner());
    expect(r).toMatchObject({ code: 2, err: 'kvmctl: error: forward ID tcp-2222 is tcp, but --proto udp was given\nhint: leave --proto out: kvmctl net forward delete tcp-2222\n', changes: [] });
  });

  it('--if-exists: an absent forward is exit 0, changed false; one that exists is deleted as without it', async () => {
    const absent = await runKvmctl(['net', 'forward', 'delete', 'tcp-8080', '--if-exists', '-o', 'json'], firewall(AFTER));
    expect(absent.code).toBe(0);
    expect(JSON.parse(absent.out)).toEqual({ changed: false, id: 'tcp-8080' });
    expect(absent.changes).toEqual([]);
    const runner = firewall(AFTER).stub((c) => c.program === 'iptables' && c.args.includes('-D'), {}, 4);
    const present = await runKvmctl(['net', 'forward', 'delete', 'udp-5300-5310', '--if-exists'], runner);
    expect(present.code).toBe(0);
    expect(present.changes).toHaveLength(4);
  });

  it('a delete that fails midway puts back what it removed: exit 7', async () => {
    const runner = firewall(AFTER)
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), {})
      .stub((c) => c.program === 'iptables' && c.args.includes('-D'), { exitCode: 1, stderr: recorded('net/err-iptables-D-missing.stderr') })
      .stub((c) => c.program === 'iptables' && c.args.includes('-I'), {});
    const r = await runKvmctl(['net', 'forward', 'delete', '2222'], runner);
    expect(r.code).toBe(7);
    expect(r.changes[2]).toBe('iptables -w 30 -t filter -I FORWARD -s 10.77.0.2/32 -p tcp -m tcp --sport 22 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment kvmctl:fwd:tcp-2222 -j ACCEPT');
    r.runner.verify();
  });
});
