/** kvmctl net start over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { runKvmctl, URI, virshArgv as virsh } from '../../../support/harness.js';
import { recordedNetwork as net } from '../../../support/net.js';

describe('net start', () => {
  it('start: an active network is unchanged; an inactive one is started', async () => {
    const a = await runKvmctl(['net', 'start', 'fxn-nat'], net('fxn-nat'));
    expect(a).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: already active\n', changes: [] });
    const runner = net('fxn-iso').stub(virsh('net-start', '--network', 'fxn-iso'), {});
    const b = await runKvmctl(['net', 'start', 'fxn-iso', '-o', 'json'], runner);
    expect(parseOutput(['net', 'start'], b.out)).toMatchObject({ changed: true, name: 'fxn-iso', state: 'active', active: true, leaseCount: null });
    expect(b.changes).toEqual([`virsh -c ${URI} net-start --network fxn-iso`]);
  });
});
