/** kvmctl net start over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../support/schemas.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { cli, stubLoadNetwork, URI } from '../../net-harness.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const net = (name: string, leases = false) => stubLoadNetwork(new FakeRunner(), name, { leases });

describe('net start', () => {
  it('start: an active network is unchanged; an inactive one is started', async () => {
    const a = await cli(['net', 'start', 'fxn-nat'], net('fxn-nat'));
    expect(a).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: already active\n', changes: [] });
    const runner = net('fxn-iso').stub(virsh('net-start', '--network', 'fxn-iso'), {});
    const b = await cli(['net', 'start', 'fxn-iso', '-o', 'json'], runner);
    expect(parseOutput(['net', 'start'], b.out)).toMatchObject({ changed: true, name: 'fxn-iso', state: 'active', active: true, leaseCount: null });
    expect(b.changes).toEqual([`virsh -c ${URI} net-start --network fxn-iso`]);
  });
});
