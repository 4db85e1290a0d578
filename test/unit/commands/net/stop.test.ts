/** kvmctl net stop over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { runKvmctl, URI, virshArgv as virsh } from '../../../support/harness.js';
import { stubLoadDomains, recordedNetwork as net } from '../../../support/net.js';

describe('net stop', () => {
  it('stop is refused while a running VM uses the network, names it, and changes nothing', async () => {
    const r = await runKvmctl(['net', 'stop', 'fxn-nat'], stubLoadDomains(net('fxn-nat')));
    expect(r).toMatchObject({ code: 5, err: 'kvmctl: error: network fxn-nat is in use by running VM(s): fxn-vm1; stopping it cuts them off\nhint: shut them down first, or stop it anyway with: kvmctl net stop fxn-nat --force\n', changes: [] });
    const forced = await runKvmctl(['net', 'stop', 'fxn-nat', '--force'], stubLoadDomains(net('fxn-nat')).stub(virsh('net-destroy', '--network', 'fxn-nat'), {}));
    expect(forced.code).toBe(0);
    expect(forced.changes).toEqual([`virsh -c ${URI} net-destroy --network fxn-nat`]);
  });

  it('stop of an inactive network is unchanged', async () => {
    expect(await runKvmctl(['net', 'stop', 'fxn-iso'], net('fxn-iso'))).toMatchObject({ code: 0, out: 'network fxn-iso unchanged: not active\n', changes: [] });
  });
});
