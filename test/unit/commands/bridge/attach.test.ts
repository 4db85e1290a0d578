/** kvmctl bridge attach over a recorded namespace (hosts.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { currentNetnsId } from '../../../../src/net/netns-record.js';
import { ns } from './hosts.js';
import { recorded, runKvmctl } from '../../../support/harness.js';

describe('bridge attach', () => {
  it('refuses the NIC with the default route without --move-address (exit 5), changing nothing', async () => {
    const r = await runKvmctl(['bridge', 'attach', 'fxbr', 'fxup'], ns());
    expect(r).toMatchObject({ code: 5, err:
      'kvmctl: error: fxup carries the default route: enslaving it to fxbr without its addresses cuts this host off the network\n' +
        'hint: move its addresses and routes to the bridge in the same step: kvmctl bridge attach fxbr fxup --move-address\n',
    changes: [] });
  });

  it('--move-address moves addresses and routes (default included) and records them', async () => {
    const runner = ns().stub(() => true, {}, Infinity);
    const r = await runKvmctl(['bridge', 'attach', 'fxbr', 'fxup', '--move-address'], runner);
    expect(r).toMatchObject({ code: 0, out: 'fxup attached to fxbr; moved 198.51.100.1/24, 2001:db8:1::1/64, route default via 198.51.100.2, route 203.0.113.0/24 via 198.51.100.2 to fxbr\n', changes: [
      'ip link set dev fxup master fxbr',
      'ip addr del 198.51.100.1/24 dev fxup',
      'ip addr add 198.51.100.1/24 dev fxbr',
      'ip -6 addr del 2001:db8:1::1/64 dev fxup',
      'ip -6 addr add 2001:db8:1::1/64 dev fxbr',
      'ip route replace default via 198.51.100.2 dev fxbr',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50',
    ] });
    const record = JSON.parse(readFileSync(join(r.stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`), 'utf8'));
    // Keyed by the port it moved from.
    expect(record.fxup.bridge).toBe('fxbr');
    expect(record.fxup.iface).toBe('fxup');
    expect(record.fxup.addresses.map((a: { local: string }) => a.local)).toEqual(['198.51.100.1', '2001:db8:1::1']);
  });

  it('a step that fails puts every address and route back: exit 7', async () => {
    const runner = ns()
      .stub((c) => c.args.join(' ') === 'route replace 203.0.113.0/24 via 198.51.100.2 dev fxbr proto static metric 50', { exitCode: 2, stderr: 'Error: Nexthop has invalid gateway.\n' })
      .stub(() => true, {}, Infinity);
    const r = await runKvmctl(['bridge', 'attach', 'fxbr', 'fxup', '--move-address'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toContain('bridge attach fxbr fxup failed: ');
    expect(r.changes.slice(7)).toEqual([
      'ip route del default via 198.51.100.2 dev fxbr',
      'ip -6 addr del 2001:db8:1::1/64 dev fxbr',
      'ip -6 addr add 2001:db8:1::1/64 dev fxup',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxup proto static metric 50',
      'ip link set dev fxup nomaster',
    ]);
    expect(existsSync(join(r.stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`))).toBe(false);
  });

  it('an attached NIC is unchanged; a port of another bridge is exit 4; unknown ones exit 3', async () => {
    expect(await runKvmctl(['bridge', 'attach', 'fxbr', 'fxcl'], ns())).toMatchObject({ code: 0, out: 'fxcl is already attached to fxbr: unchanged\n', changes: [] });
    const links = recorded('net/ns-ip-j-d-addr-show.json').replace('"master":"fxbr"', '"master":"br7"');
    const r = await runKvmctl(['bridge', 'attach', 'fxbr', 'fxcl'], new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: links }).stub(() => true, { stdout: '[]' }, Infinity));
    expect(r.code).toBe(4);
    expect(r.err).toContain('fxcl is already a port of br7');
    const missing = await runKvmctl(['bridge', 'attach', 'fxbr', 'eth9'], ns());
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('interface "eth9" not found');
    const self = await runKvmctl(['bridge', 'attach', 'fxbr', 'fxbr'], new FakeRunner());
    expect(self.code).toBe(2);
    const lo = await runKvmctl(['bridge', 'attach', 'fxbr', 'lo'], ns());
    expect(lo.code).toBe(2);
    expect(lo.err).toContain('lo is the loopback interface');
  });
});
