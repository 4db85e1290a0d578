/** kvmctl net delete over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { recorded, runKvmctl, URI, virshArgv as virsh } from '../../../support/harness.js';
import { stubLoadDomains, recordedNetwork as net } from '../../../support/net.js';

describe('net delete', () => {
  it('is refused while a running VM uses the network (exit 5, naming it); nothing changes', async () => {
    const r = await runKvmctl(['net', 'delete', 'fxn-nat'], stubLoadDomains(net('fxn-nat')));
    expect(r).toMatchObject({ code: 5, err: 'kvmctl: error: network fxn-nat is in use by running VM(s): fxn-vm1\nhint: shut them down (or move their interfaces to another network) first\n', changes: [] });
  });

  it('stops and undefines; warns about shut-off VMs still pointing at it', async () => {
    // fxn-route is active and no VM uses it; make fxn-vm1 shut off and on it to see the warning.
    const runner = net('fxn-route');
    runner.stub((c) => c.args[2]?.startsWith("'domstats'") ?? false, { stdout: recorded('net/virsh-domstats-raw-state.txt').replace('state.state=1', 'state.state=5') + 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n' });
    runner.stub((c) => c.args[2]?.startsWith("'dumpxml'") ?? false, (c) => ({
      // In the order loadDomains asks for them.
      stdout: [...(c.args[2] ?? '').matchAll(/'dumpxml' '--domain' '([^']+)'/g)]
        .map((m) => recorded(`net/virsh-dumpxml-${m[1]}.xml`).replace("network='fxn-nat'", m[1] === 'fxn-vm1' ? "network='fxn-route'" : "network='fxn-nat'"))
        .join('KVMCTL-BATCH-SEPARATOR-d41d8cd9\n'),
    }));
    runner.stub(virsh('net-destroy', '--network', 'fxn-route'), {});
    runner.stub(virsh('net-undefine', '--network', 'fxn-route'), {});
    const r = await runKvmctl(['net', 'delete', 'fxn-route'], runner);
    expect(r).toMatchObject({ code: 0, out: 'network fxn-route deleted\n', err: 'warning: VM(s) fxn-vm1 still have an interface on network fxn-route and will not start until it is changed\n', changes: [`virsh -c ${URI} net-destroy --network fxn-route`, `virsh -c ${URI} net-undefine --network fxn-route`] });
  });

  it('an undefine that fails starts the network again: exit 7', async () => {
    const runner = stubLoadDomains(net('fxn-route'));
    runner.stub(virsh('net-destroy', '--network', 'fxn-route'), {});
    runner.stub(virsh('net-undefine', '--network', 'fxn-route'), { exitCode: 1, stderr: 'error: Failed to undefine network fxn-route\nerror: internal error: cannot remove config\n' });
    runner.stub(virsh('net-start', '--network', 'fxn-route'), {});
    const r = await runKvmctl(['net', 'delete', 'fxn-route'], runner);
    expect(r.code).toBe(7);
    expect(r.changes.at(-1)).toBe(`virsh -c ${URI} net-start --network fxn-route`);
  });
});
