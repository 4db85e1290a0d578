/**
 * A dropped session never strands the host: attacks and accidents against a
 * test namespace (real ip, iptables, ss) and the lab's libvirt, each asserting
 * the exit code, the message and that the snapshot (links, addresses, routes,
 * iptables-save, ip_forward, kvmctl's records; the lab's domains and networks)
 * is exactly as before.
 *
 *   host (up0 198.51.100.1/24, default via .2; sess0 203.0.113.1/24)  <--veth-->  lan
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL } from '../lab.js';
import { startServer, fetchTcp, type Server } from '../netns.js';
import { cli, deleteNetns, inNetns, inNs, lab, makeNetns, newStateDir, printTally, record, removeStateDirs, sh, snapshotHost, start, virsh, type CliOptions, type RunResult } from './harness.js';
import { parseOutput } from '../../support/schemas.js';

// Unique per run: network namespace names are machine-wide, and runs of other checkouts may overlap.
const NS = `rel-sess-h-${process.pid.toString(36)}`;
const LAN = 'rel-sess-l';
let stateDir = '';
const o = (extra: Partial<CliOptions> = {}): CliOptions => ({ stateDir, netns: NS, ...extra });
const snapshot = () => snapshotHost({ netns: NS, dirs: [join(stateDir, 'net')] });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function expectRefused(r: RunResult, code: number, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
}

/** The `hint:` line of a run, without the prefix. */
function hintOf(r: RunResult): string {
  const line = r.stderr.split('\n').find((l) => l.startsWith('hint: '));
  if (!line) throw new Error(`no hint in:\n${r.stderr}`);
  return line.slice('hint: '.length);
}

describe('a dropped session never strands the host (test namespace and lab)', () => {
  beforeAll(() => {
    stateDir = newStateDir();
    makeNetns(NS);
    makeNetns(LAN);
    const r = sh('ip', 'link', 'add', 'up0', 'netns', NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', LAN);
    if (r.code !== 0) throw new Error(r.stderr);
    inNs(LAN, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0'], ['ip', 'link', 'set', 'eth0', 'up']);
    inNs(
      NS,
      ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'up0'],
      ['ip', 'link', 'set', 'up0', 'up'],
      ['ip', 'route', 'add', 'default', 'via', '198.51.100.2'],
      ['ip', 'route', 'add', '10.60.0.0/16', 'via', '198.51.100.2'],
      // The NIC the "ssh session" arrives on, and a bridge to attach NICs to.
      ['ip', 'link', 'add', 'sess0', 'type', 'veth', 'peer', 'name', 'sess0p'],
      ['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'sess0'],
      ['ip', 'link', 'set', 'sess0', 'up'],
      ['ip', 'link', 'set', 'sess0p', 'up'],
      ['ip', 'link', 'add', 'relsbr', 'type', 'bridge'],
      ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0'],
    );
    // A veth just brought up shows NO-CARRIER for a moment: snapshots start once the links have settled.
    const deadline = Date.now() + 10_000;
    while ((JSON.parse(inNetns(NS, 'ip', '-j', 'link', 'show').stdout) as Array<{ flags: string[] }>).some((l) => l.flags.includes('UP') && l.flags.includes('NO-CARRIER'))) {
      if (Date.now() > deadline) throw new Error(`links of ${NS} did not come up`);
      sh('sleep', '0.1');
    }
  });
  afterAll(() => {
    deleteNetns(NS);
    deleteNetns(LAN);
    removeStateDirs();
    printTally();
  });

  describe('1. SIGHUP and SIGQUIT roll back like SIGINT', () => {
    it.each(['SIGHUP', 'SIGQUIT'] as const)('%s while bridge attach --move-address has moved the address off the NIC: exit 130, all of it put back', async (signal) => {
      const before = snapshot();
      // Steps: bridge up, enslave, address off up0, address on the bridge, routes. Hold the 4th: up0 has no address now.
      const p = start(['bridge', 'attach', 'relsbr', 'up0', '--move-address'], o({ fault: 'hang:4' }));
      await p.waitForStderr(/holding step 4 until interrupted/);
      expect(JSON.parse(inNetns(NS, 'ip', '-j', 'addr', 'show', 'dev', 'up0').stdout)[0].addr_info).toEqual([]);
      p.kill(signal);
      const r = await p.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/^kvmctl: error: bridge attach relsbr up0: interrupted; everything it had done was undone$/m);
      expect(snapshot()).toEqual(before);
      record('session', 'bridge attach --move-address', `${signal} at step 4 (address removed from the NIC)`, 1);
    });

    it('the session is gone (its pipes closed) and SIGHUP reaches the whole process group: the rollback still runs to the end', async () => {
      const before = snapshot();
      // As sshd does when the connection drops: the terminal side closes, then SIGHUP goes to the foreground group.
      const child = spawn('ip', ['netns', 'exec', NS, process.execPath, KVMCTL, '-c', lab.uri, 'bridge', 'attach', 'relsbr', 'up0', '--move-address'], {
        env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', KVMCTL_STATE_DIR: stateDir, KVMCTL_FAULT: 'hang:5' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let err = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d) => {
          err += d;
          if (/holding step 5 until interrupted/.test(err)) resolve();
        });
        child.on('exit', () => reject(new Error(`kvmctl ended early:\n${err}`)));
      });
      child.stdout.destroy();
      child.stderr.destroy();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      process.kill(-(child.pid as number), 'SIGHUP');
      expect(await exited).toBe(130);
      expect(snapshot()).toEqual(before);
      record('session', 'bridge attach --move-address', 'pipes closed, then SIGHUP to the process group at step 5', 1);
    });

    it('SIGHUP while net nat enable holds a rule: exit 130, namespace and NAT record as before', async () => {
      const before = snapshot();
      const p = start(['net', 'nat', 'enable', '--bridge', 'relsbr', '--subnet', '10.61.0.0/24'], o({ fault: 'hang:3' }));
      await p.waitForStderr(/holding step 3 until interrupted/);
      p.kill('SIGHUP');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/^kvmctl: error: net nat enable --bridge relsbr: interrupted; everything it had done was undone$/m);
      expect(snapshot()).toEqual(before);
      record('session', 'net nat enable', 'SIGHUP at step 3', 1);
    });
  });

  describe('1. the confirmation window (--confirm-timeout, bridge confirm)', () => {
    const windowFile = () => join(stateDir, 'net', readdirSync(join(stateDir, 'net')).find((f) => f.startsWith('bridge-confirm-')) ?? 'none');
    const waitFor = async (what: string, ok: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const upHasAddress = () => JSON.parse(inNetns(NS, 'ip', '-j', 'addr', 'show', 'dev', 'up0').stdout)[0].addr_info.some((a: { local: string }) => a.local === '198.51.100.1');

    it('not confirmed: a detached process moves everything back when the time is up, though the session that started it is gone', async () => {
      const before = snapshot();
      const r = await cli(['bridge', 'attach', 'relsbr', 'up0', '--move-address', '--confirm-timeout', '3'], o());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^up0 attached to relsbr; moved 198\.51\.100\.1\/24, route default via 198\.51\.100\.2, route 10\.60\.0\.0\/16 via 198\.51\.100\.2 to relsbr$/m);
      expect(r.stderr).toContain(`unless you confirm it from a session that still reaches the host: kvmctl -c '${lab.uri}' bridge confirm`);
      // The command has ended (its session with it); the move is in place until the window closes.
      expect(upHasAddress()).toBe(false);
      await waitFor('the automatic revert', upHasAddress, 30_000);
      await waitFor('the revert to finish', () => JSON.stringify(snapshot()) === JSON.stringify({ ...before, files: snapshot().files }), 30_000);
      const late = await cli(['bridge', 'confirm'], o());
      expectRefused(late, 6, 'kvmctl: error: bridge attach relsbr up0 was not confirmed in time and was reverted at ');
      expect(snapshot()).toEqual(before);
      record('session', 'bridge attach --move-address --confirm-timeout 3', 'not confirmed: reverted by the detached process', 1);
    });

    it('confirmed in time: the move stays, the waiting process ends, detach puts it back', async () => {
      const before = snapshot();
      const r = await cli(['bridge', 'attach', 'relsbr', 'up0', '--move-address', '--confirm-timeout', '4', '-o', 'json'], o());
      expect(r.code, r.stderr).toBe(0);
      expect(Number.isNaN(Date.parse(parseOutput(['bridge', 'attach'], r.stdout).confirmBy))).toBe(false);
      const watcher = JSON.parse(readFileSync(windowFile(), 'utf8')).window.watcherPid as number;
      const again = await cli(['bridge', 'attach', 'relsbr', 'up0', '--move-address', '--confirm-timeout', '4'], o());
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('unchanged');
      const ok = await cli(['bridge', 'confirm'], o());
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('bridge attach relsbr up0 confirmed: it stays\n');
      await waitFor('the waiting process to end', () => !existsSync(`/proc/${watcher}`) || readFileSync(`/proc/${watcher}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true, 10_000);
      await new Promise((r) => setTimeout(r, 5000));
      expect(upHasAddress()).toBe(false);
      expect((await cli(['bridge', 'detach', 'relsbr', 'up0', '--move-address'], o())).code).toBe(0);
      inNs(NS, ['ip', 'link', 'set', 'relsbr', 'down']);
      expect(snapshot()).toEqual(before);
      record('session', 'bridge attach --move-address --confirm-timeout 4', 'confirmed in time', 1);
    });

    it('--confirm-timeout without --move-address, or out of range, is exit 2 before anything runs', async () => {
      const before = snapshot();
      expectRefused(await cli(['bridge', 'attach', 'relsbr', 'up0', '--confirm-timeout', '3'], o()), 2, '--confirm-timeout needs --move-address');
      expectRefused(await cli(['bridge', 'attach', 'relsbr', 'up0', '--move-address', '--confirm-timeout', '0'], o()), 2, 'invalid --confirm-timeout "0"');
      expectRefused(await cli(['bridge', 'attach', 'relsbr', 'up0', '--move-address', '--confirm-timeout', '1;reboot'], o()), 2, 'invalid --confirm-timeout "1;reboot"');
      expect(snapshot()).toEqual(before);
    });
  });

  describe('2. the NIC carrying the ssh session is protected', () => {
    const session = { SSH_CONNECTION: '192.0.2.50 50022 203.0.113.1 22' };
    it('attaching it without --move-address is exit 5, naming the session; nothing changes', async () => {
      const before = snapshot();
      const r = await cli(['bridge', 'attach', 'relsbr', 'sess0'], o({ env: session }));
      expectRefused(r, 5, "kvmctl: error: sess0 carries this ssh session (SSH_CONNECTION's local address 203.0.113.1): enslaving it to relsbr without its addresses cuts the session off");
      expect(hintOf(r)).toBe(`move its addresses and routes to the bridge in the same step: kvmctl -c '${lab.uri}' bridge attach relsbr sess0 --move-address`);
      expect(snapshot()).toEqual(before);
      record('session', 'bridge attach', 'the NIC of SSH_CONNECTION, without --move-address', 1);
    });
    it('with an IPv4-mapped SSH_CONNECTION too', async () => {
      const before = snapshot();
      const r = await cli(['bridge', 'attach', 'relsbr', 'sess0'], o({ env: { SSH_CONNECTION: '::ffff:192.0.2.50 50022 ::ffff:203.0.113.1 22' } }));
      expectRefused(r, 5, 'sess0 carries this ssh session');
      expect(snapshot()).toEqual(before);
    });
  });

  describe('3. detach undoes attach exactly', () => {
    beforeAll(() => {
      inNs(
        NS,
        ['ip', 'link', 'add', 'plain0', 'type', 'veth', 'peer', 'name', 'plain0p'],
        ['ip', 'link', 'add', 'st0', 'type', 'veth', 'peer', 'name', 'st0p'],
        ['ip', 'addr', 'add', '10.65.0.2/24', 'dev', 'st0'],
      );
    });
    afterAll(() => inNs(NS, ['ip', 'link', 'delete', 'plain0'], ['ip', 'link', 'delete', 'st0']));
    const ok = async (args: string[]) => {
      const r = await cli(args, o());
      expect(r.code, r.stderr).toBe(0);
      return r;
    };

    it('after a plain attach and an attach --move-address, the plain port detaches alone, is refused --move-address, and the uplink moves back: the namespace is as before', async () => {
      const before = snapshot();
      await ok(['bridge', 'attach', 'relsbr', 'plain0']);
      await ok(['bridge', 'attach', 'relsbr', 'up0', '--move-address']);
      const moved = snapshot();
      const wrong = await cli(['bridge', 'detach', 'relsbr', 'plain0', '--move-address'], o());
      expectRefused(wrong, 5, "kvmctl: error: kvmctl moved relsbr's addresses and routes from up0, not from plain0: moving them to plain0 would put them on the wrong NIC\n");
      expect(hintOf(wrong)).toBe(`release plain0 alone with: kvmctl -c '${lab.uri}' bridge detach relsbr plain0; move them back with: kvmctl -c '${lab.uri}' bridge detach relsbr up0 --move-address`);
      expect(snapshot()).toEqual(moved);
      const plain = await ok(['bridge', 'detach', 'relsbr', 'plain0']);
      expect(plain.stdout).toBe('plain0 detached from relsbr\n');
      const back = await ok(['bridge', 'detach', 'relsbr', 'up0', '--move-address']);
      expect(back.stdout).toBe('up0 detached from relsbr; moved 198.51.100.1/24, route default via 198.51.100.2, route 10.60.0.0/16 via 198.51.100.2 to up0\n');
      // The bridge was brought up by the first attach; it stays up, as attach left it.
      inNs(NS, ['ip', 'link', 'set', 'relsbr', 'down']);
      expect(snapshot()).toEqual(before);
      record('session', 'bridge detach', 'two attaches (plain, --move-address): plain port alone, wrong --move-address, uplink back', 3);
    });

    it('a record that no longer matches the host is reported by host doctor with its fix; doing it leaves no record', async () => {
      const before = snapshot();
      await ok(['bridge', 'attach', 'relsbr', 'st0', '--move-address']);
      // By hand, outside kvmctl: the port leaves the bridge; the record is stale now.
      inNs(NS, ['ip', 'link', 'set', 'st0', 'nomaster']);
      const doctor = await ok(['host', 'doctor', '-o', 'json']);
      const stale = parseOutput(['host', 'doctor'], doctor.stdout).staleMoveRecords;
      expect(stale).toEqual([{ bridge: 'relsbr', iface: 'st0', addresses: [{ address: '10.65.0.2', prefix: 24, mac: null, source: 'kernel' }], reason: 'st0 is no longer a port of relsbr', fix: `kvmctl -c '${lab.uri}' host doctor --clear` }]);
      const table = await ok(['host', 'doctor']);
      expect(table.stderr).toContain(`kvmctl's record of moving 10.65.0.2/24 from st0 to relsbr no longer matches this host: st0 is no longer a port of relsbr; forget it with: kvmctl -c '${lab.uri}' host doctor --clear\n`);
      await ok(['host', 'doctor', '--clear']);
      expect(parseOutput(['host', 'doctor'], (await ok(['host', 'doctor', '-o', 'json'])).stdout).staleMoveRecords).toEqual([]);
      // A later detach of another port is not steered by it.
      await ok(['bridge', 'attach', 'relsbr', 'plain0']);
      await ok(['bridge', 'detach', 'relsbr', 'plain0']);
      inNs(NS, ['ip', 'addr', 'del', '10.65.0.2/24', 'dev', 'relsbr'], ['ip', 'addr', 'add', '10.65.0.2/24', 'dev', 'st0'], ['ip', 'link', 'set', 'st0', 'down'], ['ip', 'link', 'set', 'relsbr', 'down']);
      expect(snapshot()).toEqual(before);
      record('session', 'host doctor', 'stale bridge move record', 1);
    });
  });

  describe("4. forwards never capture the host's own services", () => {
    let sshd: Server;
    beforeAll(async () => {
      sshd = await startServer(NS, '0.0.0.0', 22, 'SSH-2.0-host\n');
    });
    afterAll(() => sshd.stop());

    it.each([
      ['22', '10.62.0.5:22'],
      ['20-30', '10.62.0.5'],
    ])('--port %s where the host listens (tcp 0.0.0.0:22) is exit 5; no rule is added and the service still answers', async (port, to) => {
      const before = snapshot();
      const r = await cli(['net', 'forward', 'add', '--port', port, '--to', to], o());
      expectRefused(r, 5, `kvmctl: error: tcp port ${port}: a process of this host listens on tcp 0.0.0.0:22; a forward would divert its connections to`);
      expect(hintOf(r)).toContain(`--capture-host-port`);
      expect(snapshot()).toEqual(before);
      expect(await fetchTcp(NS, '198.51.100.1', 22)).toBe('SSH-2.0-host');
      record('session', 'net forward add', `--port ${port} over a listening host port`, 1);
    });

    it('a port no host process listens on is forwarded; deleting it leaves the namespace as before', async () => {
      const before = snapshot();
      const r = await cli(['net', 'forward', 'add', '--port', '2222', '--to', '10.62.0.5:22'], o());
      expect(r.code, r.stderr).toBe(0);
      expect((await cli(['net', 'forward', 'delete', '2222'], o())).code).toBe(0);
      expect(snapshot()).toEqual(before);
    });
  });

  describe('5. no iptables wildcard from a name', () => {
    it.each(['x+', 'br+0'])('a bridge named %j (the kernel allows it) is exit 2 for net nat enable, quoting the rule; no rule is added', async (name) => {
      inNs(NS, ['ip', 'link', 'add', name, 'type', 'bridge']);
      try {
        const before = snapshot();
        const r = await cli(['net', 'nat', 'enable', '--bridge', name, '--subnet', '10.63.0.0/24'], o());
        expectRefused(r, 2, `kvmctl: error: --bridge "${name}": iptables reads '+' in an interface name as a wildcard ("-i ${name}" would match every interface whose name starts with "${name.slice(0, name.indexOf('+'))}")`);
        expect(snapshot()).toEqual(before);
        expect(inNetns(NS, 'iptables-save').stdout).not.toContain(name);
        record('session', 'net nat enable', `bridge ${name}`, 1);
      } finally {
        inNs(NS, ['ip', 'link', 'delete', name]);
      }
    });
    it('an --out name with + is exit 2 as well', async () => {
      const before = snapshot();
      const r = await cli(['net', 'nat', 'enable', '--bridge', 'relsbr', '--subnet', '10.63.0.0/24', '--out', 'up+'], o());
      expectRefused(r, 2, `--out "up+": iptables reads '+'`);
      expect(snapshot()).toEqual(before);
    });
  });

  describe('6. NAT subnets do not overlap what exists', () => {
    it.each([
      ['a route via a gateway', '10.60.5.0/24', 'route 10.60.0.0/16 dev up0'],
      ["libvirt's default network", '192.168.122.0/25', 'libvirt network "default" (192.168.122.0/24)'],
      ['a host address', '203.0.113.0/24', 'address 203.0.113.1/24 of sess0'],
    ])('overlapping %s is exit 4 naming it; nothing changes', async (what, subnet, clash) => {
      const before = snapshot();
      const r = await cli(['net', 'nat', 'enable', '--bridge', 'relsbr', '--subnet', subnet], o());
      expectRefused(r, 4, `kvmctl: error: subnet ${subnet} overlaps ${clash}\n`);
      expect(snapshot()).toEqual(before);
      record('session', 'net nat enable', `--subnet over ${what}`, 1);
    });
    it('a libvirt network that is only defined counts too', async () => {
      virsh('net-destroy', '--network', 'rel-sess-def');
      virsh('net-undefine', '--network', 'rel-sess-def');
      const xml = join(stateDir, 'net.xml');
      writeFileSync(xml, "<network><name>rel-sess-def</name><ip address='10.64.0.1' prefix='24'/></network>");
      expect(virsh('net-define', '--file', xml).code).toBe(0);
      try {
        const before = snapshot();
        const r = await cli(['net', 'nat', 'enable', '--bridge', 'relsbr', '--subnet', '10.64.0.0/23'], o());
        expectRefused(r, 4, 'subnet 10.64.0.0/23 overlaps libvirt network "rel-sess-def" (10.64.0.0/24)');
        expect(snapshot()).toEqual(before);
      } finally {
        virsh('net-undefine', '--network', 'rel-sess-def');
      }
    });
  });

  describe('7. the firewall state can be checked and repaired', () => {
    const natArgs = ['net', 'nat', 'enable', '--bridge', 'relsbr', '--subnet', '10.66.0.0/24'];
    const tagged = () => inNetns(NS, 'iptables-save').stdout.split('\n').filter((l) => l.includes('"kvmctl:nat:relsbr"'));

    it('after a reload drops a rule: nat check is exit 5 naming it, host check reports it, enable restores exactly it', async () => {
      const before = snapshot();
      expect((await cli(natArgs, o())).code).toBe(0);
      const enabled = snapshot();
      const ok = await cli(['net', 'nat', 'check'], o());
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('all 3 kvmctl NAT rules are present');
      // A firewall reload from a rule set saved without kvmctl's MASQUERADE rule.
      const saved = inNetns(NS, 'iptables-save').stdout.split('\n').filter((l) => !(l.includes('"kvmctl:nat:relsbr"') && l.includes('MASQUERADE'))).join('\n');
      const file = join(stateDir, 'reload.rules');
      writeFileSync(file, saved + '\n');
      expect(inNetns(NS, 'iptables-restore', file).code).toBe(0);
      expect(tagged()).toHaveLength(2);
      const missing = await cli(['net', 'nat', 'check'], o());
      expectRefused(missing, 5, 'kvmctl: error: net nat check: 1 of 3 kvmctl NAT rules are missing (relsbr)\n');
      expect(hintOf(missing)).toBe(`restore exactly what is missing with: kvmctl -c '${lab.uri}' net nat enable --bridge relsbr --subnet 10.66.0.0/24`);
      expect(missing.stdout).toMatch(/^relsbr\s+nat\s+POSTROUTING\s+missing\s/m);
      const host = await cli(['host', 'check', '-o', 'json'], o());
      const natCheck = (parseOutput(['host', 'check'], host.stdout) as { checks: Array<{ name: string; status: string; message: string }> }).checks.find((c) => c.name === 'kvmctl-nat');
      expect(natCheck).toMatchObject({ status: 'fail', message: '1 of 3 kvmctl NAT rules are missing (relsbr)' });
      const again = await cli(natArgs, o());
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('1 missing rule(s) restored');
      expect(snapshot()).toEqual(enabled);
      expect((await cli(['net', 'nat', 'disable', '--bridge', 'relsbr'], o())).code).toBe(0);
      inNs(NS, ['ip', 'link', 'set', 'relsbr', 'down']);
      expect(snapshot()).toEqual(before);
      record('session', 'net nat check / enable', 'firewall reload without one rule', 1);
    });

    it('a bridge kvmctl did not make is not "unchanged": bridge create says whose it is', async () => {
      const before = snapshot();
      const r = await cli(['bridge', 'create', 'relsbr', '-o', 'json'], o());
      expect(r.code, r.stderr).toBe(0);
      expect(parseOutput(['bridge', 'create'], r.stdout)).toMatchObject({ name: 'relsbr', changed: false, createdByKvmctl: false, owner: 'another tool or by hand' });
      const table = await cli(['bridge', 'create', 'relsbr'], o());
      expect(table.stdout).toBe('bridge relsbr already exists, made by another tool or by hand, not by kvmctl: left as it is\n');
      expect(snapshot()).toEqual(before);
      record('session', 'bridge create', 'a bridge made by hand', 1);
    });
  });

  describe('8. hints are safe to paste', () => {
    const PWNED = ['pw1', 'pw2', 'pw3'];
    let bin = '';
    let cwd = '';
    beforeAll(() => {
      // `kvmctl` on PATH is the built CLI with this test's state directory, as for a user.
      bin = mkdtempSync(join(tmpdir(), 'kvmctl-rel-bin-'));
      cwd = mkdtempSync(join(tmpdir(), 'kvmctl-rel-cwd-'));
      writeFileSync(join(bin, 'kvmctl'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KVMCTL)} "$@"\n`);
      chmodSync(join(bin, 'kvmctl'), 0o755);
    });
    afterAll(() => {
      rmSync(bin, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    });
    /** Pastes a line into bash in the namespace, as a user would. */
    const paste = (line: string) => {
      expect(sh('bash', '-n', '-c', line).code).toBe(0);
      return sh('ip', 'netns', 'exec', NS, 'env', `PATH=${bin}:${process.env.PATH}`, `KVMCTL_STATE_DIR=${stateDir}`, 'KVMCTL_URI=', 'NO_COLOR=1', 'bash', '-c', `cd ${cwd} && ${line}`);
    };

    it.each(['b;id>pw1', 'b$(id>pw2)', 'b`id>pw3`'])('a port of bridge %j: the printed detach command, pasted, detaches exactly it and runs nothing else', async (name) => {
      inNs(NS, ['ip', 'link', 'add', name, 'type', 'bridge'], ['ip', 'link', 'add', 'hport', 'type', 'veth', 'peer', 'name', 'hportp'], ['ip', 'link', 'set', 'hport', 'master', name]);
      try {
        const r = await cli(['bridge', 'attach', 'relsbr', 'hport'], o());
        expectRefused(r, 4, `kvmctl: error: hport is already a port of ${name}`);
        const hint = hintOf(r);
        expect(hint).toMatch(/^detach it first: kvmctl -c \S+ bridge detach '.*' hport$/);
        const pasted = paste(hint.slice('detach it first: '.length));
        expect(pasted.code, pasted.stderr).toBe(0);
        expect(pasted.stdout).toBe(`hport detached from ${name}\n`);
        expect(JSON.parse(inNetns(NS, 'ip', '-j', 'link', 'show', 'hport').stdout)[0].master).toBeUndefined();
        expect(readdirSync(cwd).filter((f) => PWNED.includes(f))).toEqual([]);
        record('session', 'bridge attach (hint)', `pasted detach hint for bridge ${name}`, 1);
      } finally {
        inNs(NS, ['ip', 'link', 'delete', 'hport'], ['ip', 'link', 'delete', name]);
      }
    });

    it("a VM named 'relsess-x;id>pw1': the printed command carries -c URI and, pasted, acts on exactly that VM", async () => {
      const name = 'relsess-x;id>pw1';
      virsh('destroy', '--domain', name);
      virsh('undefine', '--domain', name);
      const xml = join(stateDir, 'dom.xml');
      writeFileSync(xml, `<domain type='qemu'><name>relsess-x;id&gt;pw1</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
      expect(virsh('define', '--file', xml).code).toBe(0);
      try {
        const before = snapshotHost({ dirs: [] });
        const r = await cli(['vm', 'reboot', name], { stateDir });
        expectRefused(r, 5, `kvmctl: error: cannot reboot VM "${name}": it is shutoff`);
        expect(snapshotHost({ dirs: [] })).toEqual(before);
        const hint = hintOf(r);
        expect(hint).toBe(`start it instead: kvmctl -c '${lab.uri}' vm start 'relsess-x;id>pw1'`);
        const pasted = paste(hint.slice('start it instead: '.length));
        expect(pasted.code, pasted.stderr).toBe(0);
        expect(virsh('domstate', '--domain', name).stdout.trim()).toBe('running');
        expect(readdirSync(cwd).filter((f) => PWNED.includes(f))).toEqual([]);
        expect(virsh('destroy', '--domain', name).code).toBe(0);
        expect(snapshotHost({ dirs: [] })).toEqual(before);
        record('session', 'vm reboot (hint)', 'pasted hint for a VM named with ; and >', 1);
      } finally {
        virsh('destroy', '--domain', name);
        virsh('undefine', '--domain', name);
      }
    });
  });

  describe('9. tables cannot be spoofed', () => {
    const names = ['b\u001b[31mred', 'b\u202egpj.exe', 'b\u0007bell'];
    it('bridge names with an escape sequence, a right-to-left override or a bell are escaped in the table and exact in JSON', async () => {
      for (const n of names) inNs(NS, ['ip', 'link', 'add', n, 'type', 'bridge']);
      try {
        const table = await cli(['bridge', 'list'], o());
        expect(table.code, table.stderr).toBe(0);
        expect(table.stdout).toMatch(/^b\\e\[31mred\s/m);
        expect(table.stdout).toMatch(/^b\\u202egpj\.exe\s/m);
        expect(table.stdout).toMatch(/^b\\x07bell\s/m);
        expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
        const json = await cli(['bridge', 'list', '-o', 'json'], o());
        const listed = (parseOutput(['bridge', 'list'], json.stdout) as Array<{ name: string }>).map((b) => b.name);
        expect(listed).toEqual(expect.arrayContaining(names));
        record('session', 'bridge list', 'names with ESC, RLO and BEL', 3);
      } finally {
        for (const n of names) inNs(NS, ['ip', 'link', 'delete', n]);
      }
    });
  });

  describe('10. locks survive pid reuse', () => {
    const lockPath = (key: string) => join(stateDir, 'locks', createHash('sha256').update(`${lab.uri} ${key}`).digest('hex').slice(0, 32) + '.lock');
    const startTime = (pid: number) => sh('sh', '-c', `cut -d')' -f2- /proc/${pid}/stat | cut -d' ' -f21`).stdout.trim();

    it('a lock left by a dead kvmctl whose pid another program now has is taken over at once', async () => {
      const other = spawn('sleep', ['60']);
      try {
        mkdirSync(join(stateDir, 'locks'), { recursive: true });
        writeFileSync(lockPath('bridge relslk0'), `${other.pid}\nbridge relslk0\n1\n["bridge","create","relslk0"]\n`);
        const r = await cli(['bridge', 'create', 'relslk0'], o());
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toContain('waiting for another kvmctl');
        expect(existsSync(lockPath('bridge relslk0'))).toBe(false);
        expect((await cli(['bridge', 'delete', 'relslk0'], o())).code).toBe(0);
        record('session', 'bridge create', 'lock of a reused pid (another program)', 1);
      } finally {
        other.kill();
      }
    });

    it('a live holder is waited for and named (pid, start time, command); when it ends the command goes on', async () => {
      const holder = spawn('sleep', ['60']);
      try {
        await new Promise((r) => setTimeout(r, 200));
        const ticks = startTime(holder.pid as number);
        expect(ticks).toMatch(/^\d+$/);
        mkdirSync(join(stateDir, 'locks'), { recursive: true });
        writeFileSync(lockPath('bridge relslk1'), `${holder.pid}\nbridge relslk1\n${ticks}\n["bridge","create","relslk1;x"]\n`);
        const p = start(['bridge', 'create', 'relslk1'], o());
        await p.waitForStderr(new RegExp(esc(`waiting for another kvmctl working on ${lab.uri} bridge relslk1 (pid ${holder.pid}, started ${ticks} ticks after boot: kvmctl bridge create 'relslk1;x')`)));
        holder.kill();
        const r = await p.done;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain('bridge relslk1 created');
        expect((await cli(['bridge', 'delete', 'relslk1'], o())).code).toBe(0);
        record('session', 'bridge create', 'lock of a live holder: named while waiting', 1);
      } finally {
        holder.kill();
      }
    });
  });
});
