/** kvmctl net autostart over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { runKvmctl, virshArgv as virsh } from '../../../support/harness.js';
import { recordedNetwork as net } from '../../../support/net.js';

describe('net autostart', () => {
  it('autostart and autostart --disable', async () => {
    expect(await runKvmctl(['net', 'autostart', 'fxn-nat'], net('fxn-nat'))).toMatchObject({ code: 0, out: 'network fxn-nat unchanged: autostart already on\n' });
    const r = await runKvmctl(['net', 'autostart', 'fxn-nat', '--disable'], net('fxn-nat').stub(virsh('net-autostart', '--network', 'fxn-nat', '--disable'), {}));
    expect(r).toMatchObject({ code: 0, out: 'network fxn-nat: autostart off\n' });
  });
});
