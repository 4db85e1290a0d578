/** kvmctl bridge detach over a recorded namespace, before and after a real attach --move-address (hosts.ts). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentNetnsId } from '../../../../src/net/netns-record.js';
import { VNET, ns, nsLinks, lab } from './hosts.js';
import { parseOutput } from '../../../support/schemas.js';
import { newStateDir, runKvmctl } from '../../../support/harness.js';

describe('bridge detach', () => {
  it('refuses to release the uplink of a bridge with the default route without --move-address', async () => {
    const r = await runKvmctl(['bridge', 'detach', 'fxbr', 'fxup'], ns(true));
    expect(r.code).toBe(5);
    expect(r.err).toContain('fxbr carries the default route: releasing its uplink fxup cuts this host off the network');
    expect(r.changes).toEqual([]);
  });

  it('--move-address moves back exactly what attach moved', async () => {
    const stateDir = newStateDir();
    const moved = {
      fxbr: {
        iface: 'fxup',
        addresses: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: '2001:db8:1::1', prefixlen: 64, scope: 'global' }],
        routes: [
          { family: 4, dst: 'default', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
          { family: 4, dst: '203.0.113.0/24', gateway: '198.51.100.2', dev: 'fxup', protocol: 'static', metric: 50, flags: [] },
        ],
      },
    };
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    const file = join(stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`);
    writeFileSync(file, JSON.stringify(moved));
    const r = await runKvmctl(['bridge', 'detach', 'fxbr', 'fxup', '--move-address'], ns(true).stub(() => true, {}, Infinity), { stateDir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 10.77.0.1/24 was the bridge's own: it stays.
    expect(r.changes).toEqual([
      'ip link set dev fxup nomaster',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip -6 addr del 2001:db8:1::1/64 dev fxbr',
      'ip -6 addr add 2001:db8:1::1/64 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
      'ip route replace 203.0.113.0/24 via 198.51.100.2 dev fxup proto static metric 50',
    ]);
    expect(existsSync(file)).toBe(false);
  });

  it('a tap of a running VM is refused; a NIC in no bridge is unchanged', async () => {
    const r = await runKvmctl(['bridge', 'detach', 'virbr1', VNET], lab());
    expect(r.code).toBe(5);
    expect(r.err).toContain(`${VNET} is the interface of running VM fxn-vm1`);
    expect(await runKvmctl(['bridge', 'detach', 'fxbr', 'fxup'], ns())).toMatchObject({ code: 0, out: 'fxup is not attached to any bridge: unchanged\n', changes: [] });
  });
});

describe('bridge detach after two attaches (fxup with --move-address, fxcl plain)', () => {
  const movedFromFxup = {
    fxup: {
      bridge: 'fxbr',
      iface: 'fxup',
      addresses: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24, scope: 'global' }],
      routes: [
        { family: 4, dst: 'default', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
        // Removed from the host since: it is not put back (it would fail and strand the detach).
        { family: 4, dst: '192.0.2.0/24', gateway: '198.51.100.2', dev: 'fxup', flags: [] },
      ],
    },
  };
  async function withRecord(value: unknown): Promise<{ stateDir: string; file: string }> {
    const stateDir = newStateDir();
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    const file = join(stateDir, 'net', `bridge-moves-netns-${await currentNetnsId()}.json`);
    writeFileSync(file, JSON.stringify(value));
    return { stateDir, file };
  }

  it('the plain port goes without moving anything, although the bridge carries the default route', async () => {
    const { stateDir, file } = await withRecord(movedFromFxup);
    const r = await runKvmctl(['bridge', 'detach', 'fxbr', 'fxcl'], ns(true).stub(['ip', 'link', 'set', 'dev', 'fxcl', 'nomaster'], {}), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual(['ip link set dev fxcl nomaster']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(movedFromFxup);
  });

  it('--move-address of the plain port is refused (exit 5), naming the port the addresses came from; nothing runs', async () => {
    const { stateDir } = await withRecord(movedFromFxup);
    const r = await runKvmctl(['bridge', 'detach', 'fxbr', 'fxcl', '--move-address'], ns(true), { stateDir });
    expect(r).toMatchObject({ code: 5, err:
      "kvmctl: error: kvmctl moved fxbr's addresses and routes from fxup, not from fxcl: moving them to fxcl would put them on the wrong NIC\n" +
        'hint: release fxcl alone with: kvmctl bridge detach fxbr fxcl; move them back with: kvmctl bridge detach fxbr fxup --move-address\n',
    changes: [] });
  });

  it('--move-address of the uplink moves back what is still there; the record goes', async () => {
    const { stateDir, file } = await withRecord(movedFromFxup);
    const r = await runKvmctl(['bridge', 'detach', 'fxbr', 'fxup', '--move-address'], ns(true).stub(() => true, {}, Infinity), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(r.changes).toEqual([
      'ip link set dev fxup nomaster',
      'ip addr del 198.51.100.1/24 dev fxbr',
      'ip addr add 198.51.100.1/24 dev fxup',
      'ip route replace default via 198.51.100.2 dev fxup',
    ]);
    expect(existsSync(file)).toBe(false);
  });

  it('the bridge delete hint names the recorded uplink', async () => {
    const { stateDir } = await withRecord({ fxcl: { ...movedFromFxup.fxup, iface: 'fxcl' } });
    const r = await runKvmctl(['bridge', 'delete', 'fxbr'], ns(true), { stateDir });
    expect(r.code).toBe(5);
    expect(r.err).toContain('hint: move its addresses back first: kvmctl bridge detach fxbr fxcl --move-address\n');
  });

  it('host doctor reports a record that no longer matches the host, with the command that forgets it; --clear does', async () => {
    const { stateDir, file } = await withRecord({ ...movedFromFxup, fxgone: { ...movedFromFxup.fxup, iface: 'fxgone' } });
    const r = await runKvmctl(['host', 'doctor', '-o', 'json'], nsLinks(true), { stateDir });
    expect(r.code, r.err).toBe(0);
    expect(parseOutput(['host', 'doctor'], r.out).staleMoveRecords).toEqual([{ bridge: 'fxbr', iface: 'fxgone', addresses: [{ address: '198.51.100.1', prefix: 24, mac: null, source: 'kernel' }], reason: 'fxgone no longer exists', fix: 'kvmctl host doctor --clear' }]);
    const table = await runKvmctl(['host', 'doctor'], nsLinks(true), { stateDir });
    expect(table.err).toContain("kvmctl's record of moving 198.51.100.1/24 from fxgone to fxbr no longer matches this host: fxgone no longer exists; forget it with: kvmctl host doctor --clear\n");
    const clear = await runKvmctl(['host', 'doctor', '--clear'], nsLinks(true), { stateDir });
    expect(clear.code, clear.err).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['fxup']);
  });
});
