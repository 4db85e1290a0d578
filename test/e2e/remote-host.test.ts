/**
 * `kvmctl -c qemu+ssh://…` against a second lab host that runs an sshd in its own
 * namespace: every fact must be that host's. kvmctl runs in the first lab's
 * namespace, joined to the second by a veth; the ssh client uses a known_hosts
 * file of this test's own, for the kvmctl process only: an ssh_config bound over
 * /etc/ssh/ssh_config names it, and where /root/.ssh exists the test's directory
 * is bound over it too (a fresh machine may have none).
 * Markers made only on one side (a bridge with its address, a NAT rule, a
 * libvirt network, a port forward) tell the two hosts apart.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, LAB_NAME, LAB_SCRIPT, inNetns, kvmctl, lab, type RunResult } from './lab.js';
import { parseJsonError, parseOutput } from '../support/schemas.js';

const REMOTE = `${LAB_NAME}-r`;
const REMOTE_NETNS = `kvmctl-${REMOTE}`;
const REMOTE_DIR = `${lab.dir}-r`;
const REMOTE_MARK = { bridge: 'krmark0', address: '10.99.17.1/24', subnet: '10.99.17.0/24', network: 'rmark-net', forward: { port: '2299', to: '10.99.17.5:22' } };
const LOCAL_MARK = { bridge: 'klmark0', address: '10.98.17.1/24', subnet: '10.98.17.0/24', forward: { port: '2298', to: '10.98.17.5:22' } };

const labSh = (...args: string[]) => execFileSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
/** lab.sh asynchronously: a lab's up or down takes a minute on a busy machine, and the test worker must keep answering vitest meanwhile. */
const labShAsync = async (...args: string[]) => (await promisify(execFile)('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8' })).stdout.trim();
const remoteVirsh = (...args: string[]) =>
  spawnSync('virsh', ['-c', `qemu+unix:///system?socket=${REMOTE_DIR}/run/libvirt-sock`, ...args], { encoding: 'utf8' });

let address = '';
let home = '';
let sshUri = '';
let wasUp = false;

/** A directory of the test's own holding known_hosts and the ssh_config that names it. */
function sshHome(knownHosts: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-ssh-'));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'known_hosts'), knownHosts, { mode: 0o600 });
  writeFileSync(join(dir, 'ssh_config'), `Host *\n  UserKnownHostsFile ${join(dir, 'known_hosts')}\n  GlobalKnownHostsFile /dev/null\n`, { mode: 0o644 });
  return dir;
}

/** The built CLI in the first lab's namespace and a mount namespace of its own, with this test's ssh files. */
function client(args: string[], dir = home): RunResult {
  const mounts = 'if [ -d /root/.ssh ]; then mount --bind "$0" /root/.ssh || exit 125; fi; mount --bind "$0/ssh_config" /etc/ssh/ssh_config && exec "$@"';
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', mounts, dir, process.execPath, KVMCTL, ...args],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' }, timeout: 120_000 },
  );
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function links(netns: string): string {
  return inNetns(netns, 'ip', '-br', 'addr', 'show').stdout;
}

beforeAll(async () => {
  wasUp = spawnSync('bash', [LAB_SCRIPT, 'status', REMOTE]).status === 0;
  await labShAsync('up', REMOTE);
  await labShAsync('sshd', REMOTE);
  address = (await labShAsync('join', LAB_NAME, REMOTE)).split(' ')[1] ?? '';
  const hostKey = readFileSync(join(REMOTE_DIR, 'ssh/host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  home = sshHome(`${address} ${hostKey}\n`);
  sshUri = `qemu+ssh://root@${address}/system?keyfile=${REMOTE_DIR}/ssh/client_key`;
  for (const [ns, m] of [[REMOTE_NETNS, REMOTE_MARK], [lab.netns, LOCAL_MARK]] as const) {
    removeMarker(ns, m);
    for (const cmd of [
      ['ip', 'link', 'add', m.bridge, 'type', 'bridge'],
      ['ip', 'addr', 'add', m.address, 'dev', m.bridge],
      ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', m.subnet, '-j', 'MASQUERADE', '-m', 'comment', '--comment', 'e2e remote marker'],
    ]) {
      const r = inNetns(ns, cmd[0] ?? '', ...cmd.slice(1));
      if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns}: ${r.stderr}`);
    }
  }
  const xml = `<network><name>${REMOTE_MARK.network}</name><bridge name='krmark1'/></network>`;
  const xmlFile = join(home, 'net.xml');
  writeFileSync(xmlFile, xml);
  remoteVirsh('net-undefine', REMOTE_MARK.network);
  expect(remoteVirsh('net-define', xmlFile).status).toBe(0);
}, 300_000);

/** kvmctl on the remote lab host itself (in its namespace, against its own socket), and on the first lab (the client's namespace). */
const onRemote = (args: string[]) => kvmctl(args, { netns: REMOTE_NETNS, uri: `qemu+unix:///system?socket=${REMOTE_DIR}/run/libvirt-sock` });
const onLocal = (args: string[]) => kvmctl(args);
/** A namespace's rules without counters and comments of iptables-save's own (chain counters move with the ssh traffic itself). */
const rules = (ns: string) => inNetns(ns, 'iptables-save').stdout.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '');

/** A marker left by an earlier run that kept its labs up (KVMCTL_LAB_KEEP=1). */
function removeMarker(ns: string, m: { bridge: string; subnet: string }): void {
  inNetns(ns, 'ip', 'link', 'del', m.bridge);
  const rule = ['-t', 'nat', '-D', 'POSTROUTING', '-s', m.subnet, '-j', 'MASQUERADE', '-m', 'comment', '--comment', 'e2e remote marker'];
  while (inNetns(ns, 'iptables', ...rule).code === 0);
}

afterAll(async () => {
  removeMarker(lab.netns, LOCAL_MARK);
  for (const [where, m] of [[onRemote, REMOTE_MARK], [onLocal, LOCAL_MARK]] as const) where(['net', 'forward', 'delete', m.forward.port, '--if-exists']);
  if (!wasUp && process.env.KVMCTL_LAB_KEEP !== '1') await labShAsync('down', REMOTE);
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('kvmctl host over qemu+ssh (a second lab host with an sshd)', () => {
  it("reports the remote namespace's bridges, NAT rules and networks, and none of this machine's", () => {
    const r = client(['-c', sshUri, 'host', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const f = parseOutput(['host'], r.stdout);
    expect(f.access).toEqual({ kind: 'ssh', target: `root@${address}`, reason: null });
    expect(f.libvirt.reachable).toBe(true);
    const bridges = f.bridges.map((b: { name: string }) => b.name);
    expect(bridges).toContain(REMOTE_MARK.bridge);
    expect(bridges).not.toContain(LOCAL_MARK.bridge);
    expect(f.bridges.find((b: { name: string }) => b.name === REMOTE_MARK.bridge).addresses.map((a: { address: string; prefix: number }) => `${a.address}/${a.prefix}`)).toEqual([REMOTE_MARK.address]);
    const sources = f.nat.rules.map((n: { source?: string }) => n.source);
    expect(sources).toContain(REMOTE_MARK.subnet);
    expect(sources).not.toContain(LOCAL_MARK.subnet);
    expect(f.networks.map((n: { name: string }) => n.name)).toContain(REMOTE_MARK.network);
    // ip_forward of the remote namespace (libvirt's default network turned it on there).
    expect(f.nat.ipForward).toBe(inNetns(REMOTE_NETNS, 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.trim() === '1');
    // The verdict is libvirt's: this machine's /dev/kvm and modules are not reported as the host's.
    expect(f.virtualization.source).toBe('libvirt');
    expect(f.virtualization.devKvmPresent).toBeNull();
    expect(f.virtualization.kvmModules).toEqual([]);
    const caps = remoteVirsh('capabilities').stdout;
    expect(f.virtualization.libvirtOffersKvm).toBe(caps.includes("<domain type='kvm'"));
    expect(f.virtualization.kvmUsable).toBe(/<feature name='(vmx|svm)'\/>/.test(caps) && caps.includes("<domain type='kvm'"));
    // libvirt's node memory (this machine's balloon moves it a little between two reads).
    const mem = Number(/Memory size:\s+(\d+) KiB/.exec(remoteVirsh('nodeinfo').stdout)?.[1]) * 1024;
    expect(Math.abs(f.capacity.hostMemoryBytes - mem) / mem).toBeLessThan(0.05);
    expect(f.tools.map((t: { name: string }) => t.name)).toEqual(['virsh']);
  });

  it('says in the table where the facts came from, and host check judges the remote host', () => {
    const r = client(['-c', sshUri, 'host']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`host access\\s+ssh root@${address.replace(/\./g, '\\.')} `));
    expect(r.stdout).toMatch(/facts from\s+the host's libvirt/);
    expect(r.stdout).toMatch(new RegExp(`^${REMOTE_MARK.bridge}\\s`, 'm'));
    const check = client(['-c', sshUri, 'host', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/libvirt\s+ok\s+reachable at qemu\+ssh:/);
    expect(check.stdout).not.toMatch(/tool:qemu-img/);
  });

  it('bridge list over qemu+ssh lists the remote bridges; bridge create there is refused and changes nothing', () => {
    const list = client(['-c', sshUri, 'bridge', 'list', '-o', 'json']);
    expect(list.code).toBe(0);
    const names = parseOutput(['bridge', 'list'], list.stdout).map((b: { name: string }) => b.name);
    expect(names).toContain(REMOTE_MARK.bridge);
    expect(names).not.toContain(LOCAL_MARK.bridge);
    const before = [links(REMOTE_NETNS), links(lab.netns)];
    const create = client(['-c', sshUri, 'bridge', 'create', 'krnew0']);
    expect(create.code).toBe(5);
    expect(create.stderr).toMatch(/does not change the bridges, addresses or firewall of another host \(root@.*\); nothing was changed/);
    expect([links(REMOTE_NETNS), links(lab.netns)]).toEqual(before);
  });

  it('net nat list over qemu+ssh lists the remote rules; net nat enable there is refused and changes nothing', () => {
    const list = client(['-c', sshUri, 'net', 'nat', 'list', '-o', 'json']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const sources = parseOutput(['net', 'nat', 'list'], list.stdout).map((n: { source: string | null }) => n.source);
    expect(sources).toContain(REMOTE_MARK.subnet);
    expect(sources).not.toContain(LOCAL_MARK.subnet);
    // Rules, addresses and ip_forward of both sides (chain counters move with the ssh traffic itself).
    const side = (ns: string) => [inNetns(ns, 'iptables-save').stdout.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, ''), links(ns), inNetns(ns, 'cat', '/proc/sys/net/ipv4/ip_forward').stdout];
    const before = [side(REMOTE_NETNS), side(lab.netns)];
    const enable = client(['-c', sshUri, 'net', 'nat', 'enable', '--bridge', REMOTE_MARK.bridge, '--subnet', '10.99.18.0/24']);
    expect(enable.code).toBe(5);
    expect(enable.stderr).toContain(`kvmctl does not change the bridges, addresses or firewall of another host (root@${address}); nothing was changed`);
    expect(enable.stderr).toMatch(/\nhint: run the command on that host itself: ssh root@\S+ kvmctl \.\.\./);
    expect([side(REMOTE_NETNS), side(lab.netns)]).toEqual(before);
  });

  it("net forward over qemu+ssh: list shows that namespace's forwards only; add and delete are refused before anything is read, and change nothing anywhere", () => {
    // One forward made on each lab host by kvmctl run there (its own namespace): the markers.
    for (const [where, m] of [[onRemote, REMOTE_MARK], [onLocal, LOCAL_MARK]] as const) {
      where(['net', 'forward', 'delete', m.forward.port, '--if-exists']);
      const made = where(['net', 'forward', 'add', '--port', m.forward.port, '--to', m.forward.to]);
      expect(made.code, made.stderr).toBe(0);
    }
    expect(rules(REMOTE_NETNS)).toContain(`kvmctl:fwd:tcp-${REMOTE_MARK.forward.port}`);
    expect(rules(REMOTE_NETNS)).not.toContain(`kvmctl:fwd:tcp-${LOCAL_MARK.forward.port}`);
    expect(rules(lab.netns)).not.toContain(`kvmctl:fwd:tcp-${REMOTE_MARK.forward.port}`);

    const list = client(['-c', sshUri, 'net', 'forward', 'list', '-o', 'json']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(parseOutput(['net', 'forward', 'list'], list.stdout)).toEqual([
      { id: `tcp-${REMOTE_MARK.forward.port}`, protocol: 'tcp', port: { first: 2299, last: 2299 }, toAddress: '10.99.17.5', toPort: { first: 22, last: 22 }, network: null, vm: null, complete: true },
    ]);
    const table = client(['-c', sshUri, 'net', 'forward', 'list']);
    expect(table.stdout).toMatch(/^tcp-2299\s+tcp\s+2299\s+10\.99\.17\.5:22\s/m);
    expect(table.stdout).not.toContain('tcp-2298');

    const before = [rules(REMOTE_NETNS), rules(lab.netns)];
    const add = client(['-c', sshUri, 'net', 'forward', 'add', '--port', '2300', '--to', '10.99.17.5:22', '-o', 'json']);
    expect(add.code).toBe(5);
    expect(add.stdout).toBe('');
    expect(parseJsonError(add.stderr).error).toMatchObject({
      code: 'refused',
      exit: 5,
      message: `net forward add tcp-2300: kvmctl does not change the bridges, addresses or firewall of another host (root@${address}); nothing was changed`,
      hint: `run the command on that host itself: ssh root@${address} kvmctl net forward add --port 2300 --to 10.99.17.5:22 --proto tcp`,
    });
    // Refused before reading anything: -v traces no command at all (no ss, no iptables-save, locally or over ssh).
    const traced = client(['-c', sshUri, '-v', 'net', 'forward', 'add', '--port', '2300', '--to', '10.99.17.5:22']);
    expect(traced.code).toBe(5);
    expect(traced.stderr.split('\n').filter((l) => /^[+<] /.test(l))).toEqual([]);
    const del = client(['-c', sshUri, 'net', 'forward', 'delete', REMOTE_MARK.forward.port]);
    expect(del.code).toBe(5);
    expect(del.stderr).toBe(
      `kvmctl: error: net forward delete tcp-2299: kvmctl does not change the bridges, addresses or firewall of another host (root@${address}); nothing was changed\n` +
        `hint: run the command on that host itself: ssh root@${address} kvmctl net forward delete tcp-2299\n`,
    );
    expect([rules(REMOTE_NETNS), rules(lab.netns)]).toEqual(before);

    // Removed where it was made, the listing over ssh follows; the other lab's forward stays.
    expect(onRemote(['net', 'forward', 'delete', REMOTE_MARK.forward.port]).code).toBe(0);
    expect(rules(REMOTE_NETNS)).not.toContain('kvmctl:fwd:');
    const after = client(['-c', sshUri, 'net', 'forward', 'list', '-o', 'json']);
    expect(after.code).toBe(0);
    expect(parseOutput(['net', 'forward', 'list'], after.stdout)).toEqual([]);
    expect(rules(lab.netns)).toContain(`kvmctl:fwd:tcp-${LOCAL_MARK.forward.port}`);
  });

  it('a host key that does not match the test known_hosts: exit 5, the report still printed, nothing read locally', () => {
    const other = sshHome(`${address} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuMOt0gQuC9Z6kGrtNFmXZ2S4NYZB0ZQxhl0Hh7vn2H\n`);
    try {
      const r = client(['-c', sshUri, 'host', '-o', 'json'], other);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/host: cannot reach libvirt at qemu\+ssh:\/\/root@/);
      const f = parseOutput(['host'], r.stdout);
      expect(f.libvirt.reachable).toBe(false);
      expect(f.bridges).toEqual([]);
      expect(f.bridgesError).toBe(`ip -j -d addr show on root@${address} over ssh failed (exit 255): Host key verification failed.`);
      expect(f.nat.error).toBe(`iptables-save on root@${address} over ssh failed (exit 255): Host key verification failed.`);
      expect(f.virtualization).toMatchObject({ source: 'libvirt', kvmUsable: false });
      expect(f.virtualization.reason).toMatch(/^unknown: libvirt on that host did not answer/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('qemu+tcp (no shell transport): bridges and NAT not available with the reason; no daemon: exit 5', () => {
    // Port 1: nothing listens there, whether or not the lab listens on 16509.
    const uri = `qemu+tcp://${address}:1/system`;
    const r = client(['-c', uri, 'host', '-o', 'json']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot reach libvirt at qemu\+tcp:/);
    const f = parseOutput(['host'], r.stdout);
    expect(f.access.kind).toBe('none');
    expect(f.bridgesError).toMatch(/^not available: qemu\+tcp carries only libvirt's own protocol/);
    expect(f.nat.error).toBe(f.bridgesError);
    expect(f.nat.ipForward).toBeNull();
    const before = [links(REMOTE_NETNS), links(lab.netns), inNetns(lab.netns, 'iptables-save', '-t', 'nat').stdout.replace(/^#.*\n/gm, '')];
    const nat = client(['-c', uri, 'net', 'nat', 'enable', '--bridge', 'krmark0', '--subnet', '10.99.17.0/24', '--out', 'kf1']);
    expect(nat.code).toBe(5);
    expect(nat.stderr).toMatch(/not run, because qemu\+tcp:\/\/.* names another host and qemu\+tcp carries only libvirt's own protocol/);
    expect([links(REMOTE_NETNS), links(lab.netns), inNetns(lab.netns, 'iptables-save', '-t', 'nat').stdout.replace(/^#.*\n/gm, '')]).toEqual(before);
  });

  it('qemu+tcp to a lab that listens (lab.sh listen): reachable, a host UUID of its own, bridges still not available', () => {
    labSh('listen', REMOTE, address);
    const r = client(['-c', `qemu+tcp://${address}/system`, 'host', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const f = parseOutput(['host'], r.stdout);
    expect(f.libvirt.reachable).toBe(true);
    expect(f.access.kind).toBe('none');
    expect(f.bridgesError).toMatch(/^not available: qemu\+tcp carries only libvirt's own protocol/);
    expect(f.networks.map((n: { name: string }) => n.name)).toContain(REMOTE_MARK.network);
    const uuidOf = (xml: string) => /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1];
    const local = spawnSync('virsh', ['-c', lab.uri, 'capabilities'], { encoding: 'utf8' }).stdout;
    expect(uuidOf(remoteVirsh('capabilities').stdout)).toMatch(/^[0-9a-f-]{36}$/);
    expect(uuidOf(remoteVirsh('capabilities').stdout)).not.toBe(uuidOf(local));
  });
});
