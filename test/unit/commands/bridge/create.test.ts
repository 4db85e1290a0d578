/** kvmctl bridge create over a recorded namespace (hosts.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { currentNetnsId } from '../../../../src/net/netns-record.js';
import { nsLinks } from './hosts.js';
import { newStateDir, recorded, runKvmctl } from '../../../support/harness.js';

describe('bridge create', () => {
  it('adds the bridge, its address, and brings it up', async () => {
    const runner = nsLinks()
      .stub(['ip', 'link', 'add', 'name', 'br9', 'type', 'bridge', 'stp_state', '1'], {})
      .stub(['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'br9'], {})
      .stub(['ip', 'link', 'set', 'dev', 'br9', 'up'], {});
    const r = await runKvmctl(['bridge', 'create', 'br9', '--stp', '--address', '10.88.0.1/24'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toBe('bridge br9 created (STP on, address 10.88.0.1/24) and up\n');
    expect(r.changes).toEqual(['ip link add name br9 type bridge stp_state 1', 'ip addr add 10.88.0.1/24 dev br9', 'ip link set dev br9 up']);
  });

  it('the same bridge again is unchanged; other settings or a non-bridge are exit 4', async () => {
    // fxbr was made by hand (no record of kvmctl's): it is said whose it is, not "unchanged".
    const foreign = await runKvmctl(['bridge', 'create', 'fxbr', '--address', '10.77.0.1/24'], nsLinks());
    expect(foreign).toMatchObject({ code: 0, out: 'bridge fxbr already exists, made by another tool or by hand, not by kvmctl: left as it is\n', changes: [] });
    const stateDir = newStateDir();
    mkdirSync(join(stateDir, 'net'), { recursive: true });
    writeFileSync(join(stateDir, 'net', `bridges-netns-${await currentNetnsId()}.json`), JSON.stringify({ names: ['fxbr'] }));
    expect(await runKvmctl(['bridge', 'create', 'fxbr', '--address', '10.77.0.1/24'], nsLinks(), { stateDir })).toMatchObject({ code: 0, out: 'bridge fxbr unchanged\n', changes: [] });
    const docker = await runKvmctl(['bridge', 'create', 'fxbr', '-o', 'json'], nsLinks());
    expect(JSON.parse(docker.out)).toMatchObject({ name: 'fxbr', changed: false, createdByKvmctl: false, owner: 'another tool or by hand' });
    const stp = await runKvmctl(['bridge', 'create', 'fxbr', '--stp'], nsLinks());
    expect(stp.code).toBe(4);
    expect(stp.err).toContain('bridge fxbr already exists with other settings: STP is off on it');
    const addr = await runKvmctl(['bridge', 'create', 'fxbr', '--address', '10.77.0.2/24'], nsLinks());
    expect(addr.err).toContain('it has no address 10.77.0.2/24');
    const veth = await runKvmctl(['bridge', 'create', 'fxup'], nsLinks());
    expect(veth.code).toBe(4);
    expect(veth.err).toContain('an interface named fxup already exists and is not a bridge (veth)');
    const overlap = await runKvmctl(['bridge', 'create', 'br9', '--address', '198.51.100.9/24'], nsLinks());
    expect(overlap.code).toBe(4);
    expect(overlap.err).toContain('--address 198.51.100.9/24 overlaps 198.51.100.1/24 of fxup');
    expect([...stp.changes, ...addr.changes, ...veth.changes, ...overlap.changes]).toEqual([]);
  });

  it('bad names and addresses are exit 2 before anything runs', async () => {
    for (const [args, message] of [
      [['bridge', 'create', 'this-name-is-too-long'], 'invalid bridge name "this-name-is-too-long": longer than 15 bytes'],
      [['bridge', 'create', 'br 0'], 'it contains white space'],
      [['bridge', 'create', 'br:0'], "it contains ':'"],
      [['bridge', 'create', 'br0', '--address', '10.88.0.0/24'], 'that is the network or broadcast address of its subnet'],
      [['bridge', 'create', 'br0', '--address', '10.88.0.1'], 'not ADDRESS/PREFIX'],
      [['bridge', 'delete', 'a/b'], "it contains '/'"],
      [['bridge', 'attach', 'br0', 'eth 0'], 'invalid interface name "eth 0"'],
    ]) {
      const r = await runKvmctl(args as string[], new FakeRunner());
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
      expect(r.runner.calls).toEqual([]);
    }
  });

  it('a failing step deletes the new bridge again: exit 7', async () => {
    const runner = nsLinks()
      .stub(['ip', 'link', 'add', 'name', 'br9', 'type', 'bridge', 'stp_state', '0'], {})
      .stub(['ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'br9'], { exitCode: 2, stderr: recorded('net/err-ip-addr-add-exists.stderr') })
      .stub(['ip', 'link', 'delete', 'dev', 'br9'], {});
    const r = await runKvmctl(['bridge', 'create', 'br9', '--address', '10.88.0.1/24'], runner);
    expect(r.code).toBe(7);
    expect(r.err).toContain('Error: ipv4: Address already assigned.');
    expect(r.changes.at(-1)).toBe('ip link delete dev br9');
  });
});
