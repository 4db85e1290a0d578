/** vm ip: the addresses of one source, or of the first that has some. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { recorded, runKvmctl, virshArgv } from '../../../support/harness.js';

describe('vm ip', () => {
  const LEASE = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'lease');
  const AGENT = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'agent');
  const ARP = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'arp');
  const EMPTY = { stdout: recorded('vm/virsh-domifaddr-lease-none.txt') };
  const ARP_FAILS = { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-arp.stderr') };

  it('prints the leased address alone, for $(kvmctl vm ip NAME)', async () => {
    const runner = new FakeRunner().stub(LEASE, { stdout: recorded('vm/virsh-domifaddr-lease.txt') });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-web'], runner);
    expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
    expect(r.code).toBe(0);
  });

  it('any: falls through a source that cannot answer (no guest agent) to the next', async () => {
    // arp prints domifaddr's table as lease does; the lab cannot answer arp (recorded), so the lease recording stands in.
    const runner = new FakeRunner().stub(LEASE, EMPTY).stub(AGENT, { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent.stderr') }).stub(ARP, { stdout: recorded('vm/virsh-domifaddr-lease.txt') });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-web', '-o', 'json'], runner);
    expect(parseOutput(['vm', 'ip', 'fxvm-web'], r.out)).toEqual([{ address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24, mac: '52:54:00:f1:00:01', source: 'arp', interface: 'vnet4' }]);
    runner.verify();
  });

  it('an explicit source that fails is its error; no address at all is exit 1 with the way to wait', async () => {
    const agent = new FakeRunner().stub(AGENT, { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent.stderr') });
    const a = await runKvmctl(['vm', 'ip', 'fxvm-web', '--source', 'agent'], agent);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/Guest agent is not responding/);
    const none = new FakeRunner().stub(LEASE, EMPTY).stub(AGENT, { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent-no-channel.stderr') }).stub(ARP, ARP_FAILS);
    const b = await runKvmctl(['vm', 'ip', 'fxvm-web'], none);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/VM "fxvm-web" has no IP address yet \(asked: lease, agent, arp\)\nhint: wait for one with: kvmctl vm wait fxvm-web --for ip/);
  });

  it('a shut-off VM is exit 5 after one call', async () => {
    const runner = new FakeRunner().stub(virshArgv('domifaddr', '--domain', 'fxvm-off', '--source', 'lease'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-shutoff.stderr') });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-off'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/VM "fxvm-off": .*domain is not running/);
    expect(runner.calls).toHaveLength(1);
  });
  it('any: a VM that does not exist stops at the first source (exit 3, one call)', async () => {
    const runner = new FakeRunner().stub(virshArgv('domifaddr', '--domain', 'nosuch', '--source', 'lease'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-nosuch.stderr') });
    const r = await runKvmctl(['vm', 'ip', 'nosuch'], runner);
    expect([r.code, r.err]).toEqual([3, expect.stringMatching(/VM "nosuch" not found[\s\S]*hint: list what exists with: kvmctl vm list/)]);
    expect(runner.calls).toHaveLength(1);
    runner.verify();
  });
});
