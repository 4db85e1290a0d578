/** kvmctl net unreserve over the recorded lab. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseOutput } from '../../../support/schemas.js';
import { runKvmctl, virshArgv as virsh } from '../../../support/harness.js';
import { recordedNetwork as net } from '../../../support/net.js';

describe('net unreserve', () => {

  it('unreserve deletes the entry as defined; an unknown one is exit 3', async () => {
    const runner = net('fxn-nat').stub(
      virsh('net-update', '--network', 'fxn-nat', '--command', 'delete', '--section', 'ip-dhcp-host', '--xml', '<host mac="52:54:00:f0:00:02" name="fxn-vm2" ip="10.213.0.20"/>', '--live', '--config'),
      {},
    );
    const r = await runKvmctl(['net', 'unreserve', 'fxn-nat', '--ip', '10.213.0.20'], runner);
    expect(r).toMatchObject({ code: 0, out: 'removed reservation 52:54:00:f0:00:02 -> 10.213.0.20 from network fxn-nat\n' });
    const missing = await runKvmctl(['net', 'unreserve', 'fxn-nat', '--mac', '52:54:00:f0:00:99'], net('fxn-nat'));
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('network fxn-nat has no reservation for 52:54:00:f0:00:99');
    // --if-exists: exit 0, the keys that name the reservation, as the schema has them (address, not ip).
    for (const [flag, mac, address] of [['--mac', '52:54:00:f0:00:99', null], ['--ip', null, '10.213.0.99']] as const) {
      const args = ['net', 'unreserve', 'fxn-nat', flag, (mac ?? address)!, '--if-exists'];
      const quiet = await runKvmctl([...args, '-o', 'json'], net('fxn-nat'));
      expect(quiet.code).toBe(0);
      expect(parseOutput(args, quiet.out)).toEqual({ changed: false, network: 'fxn-nat', mac, address });
    }
    const both = await runKvmctl(['net', 'unreserve', 'fxn-nat', '--mac', '52:54:00:f0:00:99', '--ip', '10.213.0.20'], new FakeRunner());
    expect(both.code).toBe(2);
  });

  it('--if-exists: an absent reservation is exit 0, changed false, named by network, mac and address', async () => {
    const args = ['net', 'unreserve', 'fxn-nat', '--ip', '10.213.0.99', '--if-exists'];
    const r = await runKvmctl([...args, '-o', 'json'], net('fxn-nat'));
    expect(r.code).toBe(0);
    expect(parseOutput(args, r.out)).toEqual({ changed: false, network: 'fxn-nat', mac: null, address: '10.213.0.99' });
    expect(r.changes).toEqual([]);
  });
});
