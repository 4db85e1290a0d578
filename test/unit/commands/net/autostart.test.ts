/** kvmctl net autostart over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { cli, stubLoadNetwork, URI } from '../../net-harness.js';

const virsh = (...args: string[]) => ['virsh', '-c', URI, ...args];
const net = (name: string, leases = false) => stubLoadNetwork(new FakeRunner(), name, { leases });

describe('net autostart', () => {
  it('autostart and autostart --disable', async () => {
    expect(await cli(['net', 'autostart', 'fxn-nat'], net('fxn-nat'))).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: autostart already on\n' });
    const r = await cli(['net', 'autostart', 'fxn-nat', '--disable'], net('fxn-nat').stub(virsh('net-autostart', '--network', 'fxn-nat', '--disable'), {}));
    expect(r).toMatchObject({ code: 0, out: 'network fxn-nat: autostart off\n' });
  });
});
