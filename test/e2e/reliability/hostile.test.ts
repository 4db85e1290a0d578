/**
 * Hostile names and values against every command, with the built CLI, the
 * lab's libvirtd and a test namespace. Driven from tables so the counts are
 * plain:
 *
 * - refused: invalid names (path traversal, control characters, option
 *   look-alikes, overlong, empty), absurd sizes and counts, malformed MACs,
 *   CIDRs, IPs, ports and interface names: exit 2 with a message naming the
 *   value, and the host (libvirt, the pool's files, both namespaces, kvmctl's
 *   records) exactly as before; no shell ever runs, so /tmp/pwned never exists;
 * - new names are letters, digits and - _ . only: a;b, a|b, $(id), spaces,
 *   quotes, <&> are refused for every object kvmctl creates (exit 2, the rule,
 *   a valid example, nothing created);
 * - taken literally: objects that libvirt allows with such names, made with
 *   virsh, are listed, inspected, started, stopped, changed, copied and
 *   deleted as exactly that object; sibling VMs named like parts of them stay
 *   untouched.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliOk, deleteNetns, inNetns, inNs, lab, makeNetns, newStateDir, printTally, record, removeStateDirs, snapshotHost, start, virsh, type CliOptions, type HostState, type RunResult, createPool, removePool } from './harness.js';
import { parseOutput } from '../../support/schemas.js';

const POOL = 'rel-hostile';
// Unique per run: network namespace names are machine-wide, and runs of other checkouts may overlap.
const NS = `rel-hostile-net-${process.pid.toString(36)}`;
const poolDir = () => join(lab.dir, 'pools', POOL);
const guest = (f: string) => join(lab.guestDir, f);
/** Where a shell would have left its mark, had any name reached one. */
const PWNED = ['/tmp/pwned', join(process.cwd(), 'relh-pwned'), '/tmp/relh-pwned'];

/** VMs libvirt allows and kvmctl must handle exactly; the siblings share parts of their names. */
const ODD_VMS = ['relh-a;relh-b', 'relh x y', '-relh-x', 'relh-$(touch relh-pwned)', "relh-'q", 'relh-<&>', 'relh-`touch relh-pwned`', 'relh-é'];
const SIBLINGS = ['relh-a', 'relh-b', 'relh', 'relh-x'];
/** VMs whose names (and so their disks' names) look like XML entities or markup. */
const XML_VMS = ['relh-e&amp;f', 'relh-e&lt;g>'];

let stateDir = '';
const o = (netns?: string): CliOptions => ({ stateDir, netns });
const snapshot = () => snapshotHost({ dirs: [poolDir(), join(stateDir, 'net')], netns: [lab.netns, NS] });

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** A small VM defined straight with virsh: direct kernel boot, 64 MiB, optionally one disk. */
function defineVm(name: string, disk?: string): void {
  const file = join(poolDir(), '..', `${POOL}-vm.xml`);
  writeFileSync(
    file,
    `<domain type='qemu'><name>${xmlText(name)}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${guest('vmlinuz')}</kernel><initrd>${guest('initrd.img')}</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features>
  <devices>${disk ? `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${xmlText(join(poolDir(), disk))}'/><target dev='vda' bus='virtio'/></disk>` : ''}<serial type='pty'/><console type='pty'/></devices>
</domain>`,
  );
  const r = virsh('define', '--file', file);
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`define ${name}: ${r.stderr}`);
}

/**
 * A 1 MiB qcow2 volume made with virsh (kvmctl refuses such names for new
 * volumes), from escaped XML: virsh vol-create-as puts the name into its XML
 * unescaped, so 'a&amp;b' would become 'a&b'.
 */
function makeVolume(name: string): void {
  const file = join(poolDir(), '..', `${POOL}-vol.xml`);
  writeFileSync(file, `<volume><name>${xmlText(name)}</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>`);
  const r = virsh('vol-create', '--pool', POOL, '--file', file);
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`vol-create ${name}: ${r.stderr}`);
}

function removeVm(name: string): void {
  virsh('destroy', '--domain', name);
  virsh('undefine', '--domain', name);
}

function cleanup(): void {
  for (const vm of [...ODD_VMS, ...SIBLINGS, 'relh-c;d', 'relh-new', 'relh-eclone', ...XML_VMS]) removeVm(vm);
  virsh('net-destroy', '--network', 'relh-n;m');
  virsh('net-undefine', '--network', 'relh-n;m');
  removePool(POOL, poolDir());
  deleteNetns(NS);
  for (const f of PWNED) rmSync(f, { force: true });
}

/** One XPath value of an XML document, read by xmllint (which refuses anything not well formed). */
function xpath(xml: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, '-'], { input: xml, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xmllint --xpath ${expr}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- the refusal table ----------------------------------------------------------

interface Refusal {
  area: string;
  args: string[];
  /** What the message must say (after "kvmctl: "). */
  why: RegExp;
  netns?: string;
  /** Exit code (2 unless commander itself answers, e.g. --help). */
  code?: number;
}

const KERNEL = () => `kernel=${guest('vmlinuz')}`;

/** Creation commands, with the name as the last positional (after --, so '-x' is a name, not an option). */
const CREATORS: Array<{ what: string; kind: string; args: (n: string) => string[]; netns?: string }> = [
  { what: 'vm create', kind: 'VM', args: (n) => ['vm', 'create', '--boot', KERNEL(), '--network', 'none', '--no-start', '--', n] },
  { what: 'vm clone', kind: 'VM', args: (n) => ['vm', 'clone', '--', 'relh-a', n] },
  { what: 'vm snapshot create', kind: 'snapshot', args: (n) => ['vm', 'snapshot', 'create', '--', 'relh-a', n] },
  { what: 'pool create', kind: 'pool', args: (n) => ['pool', 'create', '--path', join(poolDir(), 'sub'), '--', n] },
  { what: 'volume create', kind: 'volume', args: (n) => ['volume', 'create', '--pool', POOL, '--size', '1M', '--', n] },
  { what: 'volume import', kind: 'volume', args: (n) => ['volume', 'import', '--pool', POOL, '--name', n, '--', guest('disk.qcow2')] },
  { what: 'volume clone', kind: 'volume', args: (n) => ['volume', 'clone', '--', `${POOL}/relh-sib.qcow2`, n] },
  { what: 'volume snapshot create', kind: 'snapshot', args: (n) => ['volume', 'snapshot', 'create', '--', `${POOL}/relh-sib.qcow2`, n] },
  { what: 'net create', kind: 'network', args: (n) => ['net', 'create', '--mode', 'isolated', '--subnet', '10.91.0.0/24', '--', n] },
  { what: 'bridge create', kind: 'bridge', args: (n) => ['bridge', 'create', '--', n], netns: NS },
];

const BAD_NAMES = ['../../etc/passwd', '/etc', '$(touch /tmp/pwned)', '`touch /tmp/pwned`', 'a\nb', 'a\u001b[31mb', 'x'.repeat(300), '', '..', '-rf', '--help'];
/** Names libvirt allows for existing objects, but not for new ones: each is refused with the rule and a valid example. */
const NEW_NAME_REFUSALS: Array<[string, string]> = [
  ['relh-a;b', 'relh-a-b'],
  ['relh-a|b', 'relh-a-b'],
  ['$(id)', 'id'],
  ['relh x', 'relh-x'],
  ["relh-'q", 'relh-q'],
  ['relh-"q"', 'relh-q'],
  ['relh-<&>', 'relh'],
  ['.relh', 'relh'],
];

function refusals(): Refusal[] {
  const cases: Refusal[] = [];
  for (const c of CREATORS) {
    for (const n of BAD_NAMES) {
      cases.push({ area: `names: ${c.what}`, args: c.args(n), netns: c.netns, why: new RegExp(`^error: invalid ${c.kind} name ${escapeRegExp(JSON.stringify(n))}: `) });
    }
  }
  // Names that look like options, without --: commander refuses or answers with help, before any action.
  for (const args of [
    ['vm', 'create', '-rf', '--boot', KERNEL()],
    ['vm', 'delete', '-rf'],
    ['pool', 'create', '-rf', '--path', '/tmp/x'],
    ['volume', 'create', '-rf', '--pool', POOL, '--size', '1M'],
    ['net', 'create', '-rf', '--mode', 'isolated'],
    ['bridge', 'create', '-rf'],
  ]) {
    cases.push({ area: 'option look-alikes', args, why: /^unknown option '-rf'/ });
  }
  for (const args of [
    ['vm', 'create', '--help'],
    ['vm', 'delete', '--help'],
    ['volume', 'delete', '--help'],
    ['net', 'nat', 'enable', '--help'],
  ]) {
    cases.push({ area: 'option look-alikes', args, why: /^$/, code: 0 });
  }
  const vmc = (...extra: string[]) => ['vm', 'create', 'relh-new', '--boot', KERNEL(), '--network', 'none', '--no-start', ...extra];
  const sizes: Array<[string[], RegExp]> = [
    [vmc('--vcpus', '0'), /--vcpus "0": expected a whole number from 1 to 4096/],
    [vmc('--vcpus', '99999999'), /--vcpus "99999999": expected a whole number/],
    [vmc('--vcpus', '-1'), /--vcpus "-1": expected a whole number/],
    [vmc('--vcpus', '1.5'), /--vcpus "1\.5": expected a whole number/],
    [vmc('--vcpus', '0x10'), /--vcpus "0x10": expected a whole number/],
    [vmc('--vcpus', '1;reboot'), /--vcpus "1;reboot": expected a whole number/],
    // Within 1..4096 but above what the host's libvirt allows for the guest (virsh domcapabilities: <vcpu max='255'/> for i440fx).
    [vmc('--vcpus', '256'), /^error: --vcpus 256 for VM "relh-new": this host allows at most 255 vCPUs for a qemu x86_64 pc-i440fx-\S+ guest \(libvirt's domain capabilities\)$/],
    [['vm', 'set', 'relh-a', '--vcpus', '256'], /^error: --vcpus 256 for VM "relh-a": this host allows at most 255 vCPUs for a qemu x86_64 pc-i440fx-\S+ guest/],
    [vmc('--memory', '0'), /invalid --memory "0": must be greater than zero/],
    [vmc('--memory', '1e30'), /invalid --memory "1e30"/],
    [vmc('--memory', '-5G'), /invalid --memory "-5G"/],
    [vmc('--memory', '99999999T'), /invalid --memory "99999999T": larger than 1 EiB/],
    [vmc('--memory', 'NaN'), /invalid --memory "NaN"/],
    [vmc('--memory', 'Infinity'), /invalid --memory "Infinity"/],
    [vmc('--memory', '1M'), /--memory 1M: at least 16M is needed/],
    [vmc('--disk', 'size=1e30'), /invalid --disk size= "1e30"/],
    [vmc('--disk', 'size=-5G'), /invalid --disk size= "-5G"/],
    [vmc('--disk', 'size=0'), /invalid --disk size= "0": must be greater than zero/],
    [vmc('--timeout', '-1'), /--timeout "-1": expected a whole number/],
    [['vm', 'set', 'relh-a', '--vcpus', '0'], /--vcpus "0": expected a whole number/],
    [['vm', 'set', 'relh-a', '--vcpus', '99999999'], /--vcpus "99999999": expected a whole number/],
    [['vm', 'set', 'relh-a', '--memory', '0'], /invalid --memory "0": must be greater than zero/],
    [['vm', 'set', 'relh-a', '--memory', '1e30'], /invalid --memory "1e30"/],
    [['vm', 'set', 'relh-a', '--memory', '-5G'], /invalid --memory "-5G"/],
    [['vm', 'stop', 'relh-a', '--timeout', '-5'], /--timeout "-5": expected a whole number/],
    [['vm', 'stop', 'relh-a', '--timeout', '1e30'], /--timeout "1e30": expected a whole number/],
    [['vm', 'wait', 'relh-a', '--for', 'ip', '--timeout', '99999999999'], /--timeout "99999999999": expected a whole number/],
    [['vm', 'log', 'relh-a', '--lines', '-5'], /--lines "-5": expected a whole number/],
    [['vm', 'log', 'relh-a', '--lines', '1e3'], /--lines "1e3": expected a whole number/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '1e30'], /invalid --size "1e30"/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '-5G'], /invalid --size "-5G"/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '0'], /invalid --size "0": must be greater than zero/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '5Q'], /invalid --size "5Q"/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '1.5'], /invalid --size "1\.5": a byte count is a whole number/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '99999999P'], /larger than 1 EiB/],
    [['volume', 'resize', `${POOL}/relh-sib.qcow2`, '+1e30'], /invalid size "1e30"/],
    [['volume', 'resize', `${POOL}/relh-sib.qcow2`, '0'], /invalid size "0": must be greater than zero/],
    [['volume', 'resize', `${POOL}/relh-sib.qcow2`, '-5G'], /unknown option '-5G'/],
  ];
  for (const [args, why] of sizes) cases.push({ area: 'sizes and counts', args, why });

  const macs = ['zz:zz:zz:zz:zz:zz', '01:00:5e:00:00:01', '52:54:00:12:34', '52:54:00:12:34:56:78', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '52-54-00-12-34-56', '52:54:00:12:34:5g', '52:54:00:12:34:56;reboot'];
  for (const mac of macs) {
    cases.push({ area: 'MACs', args: ['vm', 'create', 'relh-new', '--boot', KERNEL(), '--no-start', '--network', `network=default,mac=${mac}`], why: /is not a unicast MAC address/ });
    cases.push({ area: 'MACs', args: ['net', 'reserve', 'default', '--mac', mac, '--ip', '192.168.122.50'], why: /^error: invalid MAC address / });
  }

  const subnets = ['10.0.0.0/33', '10.0.0.256/24', '10.0.0.0', '10.0.0.0/-1', '::1/64', '999.1.1.1/8', '10.0.0.0/24/1', '10.0.0.1/24', '10.0.0.0/31', ' 10.0.0.0/24', '10.0.0.0/24;reboot', '$(touch /tmp/pwned)'];
  for (const s of subnets) {
    cases.push({ area: 'CIDRs', args: ['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', s], why: /^error: invalid --subnet / });
    cases.push({ area: 'CIDRs', args: ['net', 'nat', 'enable', '--bridge', 'relhbr0', '--subnet', s], why: /^error: invalid --subnet /, netns: NS });
  }
  for (const [range, why] of [
    ['10.91.0.200-10.91.0.100', /comes after/],
    ['10.91.1.2-10.91.1.100', /is not inside the hosts of 10\.91\.0\.0\/24/],
    ['1-', /invalid --dhcp-range "1-"/],
    ['10.91.0.1-10.91.0.9', /not inside the hosts .* after the gateway/],
  ] as Array<[string, RegExp]>) {
    cases.push({ area: 'CIDRs', args: ['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--dhcp-range', range], why });
  }
  for (const a of ['10.0.0.0/24', '10.0.0.1/33', '10.0.0.1', '10.0.0.255/24', '10.0.0.1/24;reboot']) {
    cases.push({ area: 'CIDRs', args: ['bridge', 'create', 'relhbr9', '--address', a], why: /^error: invalid --address /, netns: NS });
  }
  for (const ip of ['192.168.122.999', '1.2.3', '10.1.1.1', '192.168.122.50;reboot', '-1']) {
    cases.push({ area: 'IPs', args: ['net', 'reserve', 'default', '--mac', '52:54:00:12:34:56', '--ip', ip], why: ip === '-1' ? /option '--ip <ip>' argument missing|unknown option|invalid --ip/ : /invalid --ip|is not a host address of/ });
  }

  const ports: Array<[string[], RegExp]> = [
    [['--port', '0', '--to', '10.91.0.5:80'], /invalid --port 0: 0 is not a port/],
    [['--port', '65536', '--to', '10.91.0.5:80'], /invalid --port 65536: 65536 is not a port/],
    [['--port', '99999', '--to', '10.91.0.5:80'], /invalid --port 99999: 99999 is not a port/],
    [['--port', '1-', '--to', '10.91.0.5:80'], /invalid --port "1-"/],
    [['--port', '90-80', '--to', '10.91.0.5'], /invalid --port 90-80: the range is not in order/],
    [['--port', '80,81', '--to', '10.91.0.5:80'], /invalid --port "80,81"/],
    [['--port', 'abc', '--to', '10.91.0.5:80'], /invalid --port "abc"/],
    [['--port', '1e3', '--to', '10.91.0.5:80'], /invalid --port "1e3"/],
    [['--port', '-5', '--to', '10.91.0.5:80'], /invalid --port "-5"/],
    [['--port', '8080', '--to', '10.91.0.5:0'], /invalid --to port 0: 0 is not a port/],
    [['--port', '8080', '--to', '10.91.0.5:65536'], /invalid --to port 65536/],
    [['--port', '8080', '--to', '300.1.1.1:80'], /300\.1\.1\.1 is not an IPv4 address/],
    [['--port', '8080', '--to', ':22'], /invalid VM name ""|--to/],
    [['--port', '8080', '--to', '$(touch /tmp/pwned):22'], /invalid VM name/],
    [['--port', '8080', '--to', '10.91.0.5:80', '--proto', 'icmp'], /argument 'icmp' is invalid/],
  ];
  for (const [args, why] of ports) cases.push({ area: 'ports', args: ['net', 'forward', 'add', ...args], why, netns: NS });
  for (const p of ['0', '90-80', '65536', 'x;reboot']) cases.push({ area: 'ports', args: ['net', 'forward', 'delete', p], why: /invalid/, netns: NS });

  const ifnames: Array<[string[], RegExp]> = [
    [['bridge', 'create', 'a;b'], /invalid bridge name "a;b": libvirt accepts only/],
    [['bridge', 'create', 'a b'], /invalid bridge name "a b": it contains white space/],
    [['bridge', 'create', 'a/b'], /invalid bridge name "a\/b": it contains '\/'/],
    [['bridge', 'create', 'a:b'], /invalid bridge name "a:b": it contains ':'/],
    [['bridge', 'create', 'toolongbridgename0'], /longer than 15 bytes/],
    [['bridge', 'create', 'relhbr9', '--stp', '--address', '$(touch /tmp/pwned)'], /invalid --address/],
    [['bridge', 'attach', 'relhbr0', '../x'], /invalid interface name "\.\.\/x"/],
    [['bridge', 'attach', 'relhbr0', 'relhbr0'], /cannot attach relhbr0 to itself/],
    [['bridge', 'attach', 'relhbr0', 'lo'], /lo is the loopback interface/],
    [['bridge', 'attach', '--', 'relhbr0', '-rf'], /invalid interface name "-rf": it starts with '-'/],
    [['bridge', 'delete', 'a\nb'], /invalid bridge name "a\\nb"/],
    [['net', 'nat', 'enable', '--bridge', 'a/b', '--subnet', '10.91.0.0/24'], /invalid bridge name "a\/b"/],
    [['net', 'nat', 'enable', '--bridge', 'relhbr0', '--subnet', '10.91.0.0/24', '--out', 'a b'], /invalid interface name "a b"/],
    [['net', 'nat', 'disable', '--bridge', '../x'], /invalid bridge name/],
    [['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--bridge-name', 'a;b'], /invalid bridge name "a;b"/],
    [['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--bridge-name', '-rf'], /invalid bridge name "-rf"|unknown option/],
    [['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--forward-dev', 'a b'], /invalid interface name "a b"/],
    [['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--domain', 'a;b'], /invalid --domain "a;b"/],
    [['net', 'create', 'relh-net', '--mode', 'nat', '--subnet', '10.91.0.0/24', '--domain', '<x>'], /invalid --domain "<x>"/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--network', 'bridge=a;b'], /bridge=a;b: not a Linux interface name/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--network', 'bridge=-rf'], /bridge=-rf: not a Linux interface name/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--network', 'bridge=toolongbridgename0'], /not a Linux interface name/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--network', 'network=$(touch /tmp/pwned)'], /invalid network name/],
  ];
  for (const [args, why] of ifnames) cases.push({ area: 'bridge and interface names', args, why, netns: args[0] === 'vm' || (args[0] === 'net' && args[1] === 'create') ? undefined : NS });

  const paths: Array<[string[], RegExp]> = [
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--disk', 'path=../../etc/passwd'], /--disk path=\.\.\/\.\.\/etc\/passwd: must be an absolute path/],
    [['vm', 'create', 'relh-new', '--boot', 'kernel=vmlinuz'], /--boot kernel=vmlinuz: must be an absolute path/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--log-dir', 'logs'], /--log-dir "logs": must be an absolute path/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--disk', 'vol=../etc'], /invalid pool name "\.\."/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--disk', 'path=/etc/passwd'], /say the image format/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--graphics', 'vnc;reboot'], /argument 'vnc;reboot' is invalid/],
    [['vm', 'create', 'relh-new', '--boot', KERNEL(), '--hostname', 'a;b'], /--hostname "a;b": not a valid host name/],
    [['pool', 'create', 'relh-p', '--path', '/etc'], /invalid --path "\/etc": it is inside \/etc/],
    [['pool', 'create', 'relh-p', '--path', 'relative'], /invalid --path "relative": it is not absolute/],
    [['pool', 'create', 'relh-p', '--path', `${poolDir()}/../../../../etc`], /contains '\.' or '\.\.' components/],
    [['pool', 'create', 'relh-p', '--type', 'dir;reboot', '--path', '/tmp/x'], /argument 'dir;reboot' is invalid/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '1M', '--backing', '/etc/passwd'], /invalid volume reference "\/etc\/passwd"/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '1M', '--backing', `${POOL}/../../etc/passwd`], /invalid volume reference/],
    [['volume', 'create', 'relh-v.qcow2', '--pool', POOL, '--size', '1M', '--format', 'vmdk;reboot'], /argument 'vmdk;reboot' is invalid/],
    [['volume', 'create', 'caf\u00e9.qcow2', '--pool', POOL, '--size', '1M'], /other than printable ASCII/],
    [['volume', 'delete', `${POOL}/../x`], /invalid volume reference/],
    [['volume', 'delete', `${POOL}/$(touch /tmp/pwned)`], /invalid volume reference/],
    [['volume', 'info', '../../etc/passwd'], /invalid volume reference/],
    [['volume', 'convert', `${POOL}/relh-sib.qcow2`, '--to', 'raw', '--name', '../y'], /invalid volume name "\.\.\/y"/],
    [['vm', 'info', ''], /the VM name is empty/],
  ];
  for (const [args, why] of paths) cases.push({ area: 'paths and values', args, why });

  return cases;
}

const CASES = refusals();

describe('hostile input (against the lab and a test namespace)', () => {
  beforeAll(async () => {
    cleanup();
    stateDir = newStateDir();
    await createPool(POOL, poolDir(), o());
    for (const v of ['relh-a.qcow2', 'relh-ab.qcow2', 'relh-sib.qcow2']) await cliOk(['volume', 'create', v, '--pool', POOL, '--size', '8M'], o());
    defineVm('relh-a', 'relh-a.qcow2');
    defineVm('relh-a;relh-b', 'relh-ab.qcow2');
    for (const n of ODD_VMS.filter((n) => n !== 'relh-a;relh-b')) defineVm(n);
    for (const n of SIBLINGS.filter((n) => n !== 'relh-a')) defineVm(n);
    makeNetns(NS);
    inNs(NS, ['ip', 'link', 'add', 'relhbr0', 'type', 'bridge'], ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  });
  afterAll(() => {
    cleanup();
    removeStateDirs();
    printTally();
  });

  it(`refuses ${CASES.length} hostile values before any side effect (exit 2, the value named, nothing changed, no shell)`, async () => {
    const before = snapshot();
    // Eight at a time, each group followed by a full snapshot: nothing may change, so nothing can hide behind another case.
    for (let i = 0; i < CASES.length; i += 8) {
      const group = CASES.slice(i, i + 8);
      const results = await Promise.all(group.map((c) => start(c.args, o(c.netns)).done));
      for (const [j, c] of group.entries()) {
        const r = results[j]!;
        const where = `kvmctl ${JSON.stringify(c.args)}`;
        // Soft: one run reports every case that is off, not just the first.
        expect.soft(r.code, `${where}\n${r.stderr}`).toBe(c.code ?? 2);
        if (c.code === 0) {
          expect.soft(r.stdout, where).toMatch(/^Usage: kvmctl /);
        } else {
          const line = r.stderr.split('\n').find((l) => l.startsWith('kvmctl: ')) ?? '';
          expect.soft(line.slice('kvmctl: '.length), where).toMatch(c.why);
          expect.soft(r.stdout, where).toBe('');
        }
      }
      expect(snapshot(), `after ${group.map((c) => JSON.stringify(c.args)).join(', ')}`).toEqual(before);
      for (const f of PWNED) expect(existsSync(f), f).toBe(false);
    }
    const byArea = new Map<string, number>();
    for (const c of CASES) byArea.set(c.area, (byArea.get(c.area) ?? 0) + 1);
    for (const [area, n] of byArea) record('hostile: refused', area, 'exit 2 (help: 0), message names the value, snapshot unchanged, no shell', n);
  });

  it('a new VM, pool, volume, network, snapshot or bridge with ; | $( ) space quotes <&> or a leading . is refused: exit 2, the rule, a valid example, nothing created', async () => {
    const names = () => ({
      vms: virsh('list', '--all', '--name').stdout,
      nets: virsh('net-list', '--all', '--name').stdout,
      pools: virsh('pool-list', '--all', '--name').stdout,
      vols: virsh('vol-list', '--pool', POOL).stdout,
      snapshots: virsh('snapshot-list', '--domain', 'relh-a', '--name').stdout,
      links: inNetns(NS, 'ip', '-o', 'link', 'show').stdout,
      files: spawnSync('ls', ['-A', poolDir()], { encoding: 'utf8' }).stdout,
    });
    const before = names();
    let n = 0;
    for (const c of CREATORS) {
      for (const [name, example] of NEW_NAME_REFUSALS) {
        const r = await cli(c.args(name), o(c.netns));
        const where = `kvmctl ${JSON.stringify(c.args(name))}`;
        expect.soft(r.code, `${where}\n${r.stderr}`).toBe(2);
        expect.soft(r.stdout, where).toBe('');
        if (c.kind === 'bridge') {
          expect.soft(r.stderr, where).toMatch(new RegExp(`^kvmctl: error: invalid bridge name ${escapeRegExp(JSON.stringify(name))}: (libvirt accepts only letters, digits, '-', '_' and '\\.'|it contains white space|it starts with "\\.")`));
        } else {
          expect.soft(r.stderr, where).toMatch(new RegExp(`^kvmctl: error: invalid ${c.kind} name ${escapeRegExp(JSON.stringify(name))}: it (contains|starts with) .*; .* may hold only letters, digits, '-', '_' and '\\.', starting with a letter or digit, at most 200 bytes\nhint: use e\\.g\\. ${escapeRegExp(example)}\n$`));
        }
        n++;
      }
    }
    expect(names()).toEqual(before);
    for (const f of PWNED) expect(existsSync(f), f).toBe(false);
    record('hostile: refused', 'new names outside letters, digits, - _ .', 'exit 2 naming the rule, hint with a valid name; virsh list/net-list/pool-list/vol-list/snapshot-list, links and pool files unchanged', n);
  });

  it('names libvirt allows are taken literally: each odd VM is listed once, by its exact name, and inspected as itself', async () => {
    const list = parseOutput(['vm', 'list'], (await cliOk(['vm', 'list', '-o', 'json'], o())).stdout) as Array<{ name: string }>;
    const mine = list.map((v) => v.name).filter((n) => n.startsWith('relh') || n.startsWith('-relh'));
    expect(mine.sort()).toEqual([...ODD_VMS, ...SIBLINGS].sort());
    const names = (await cliOk(['vm', 'list', '--name-only'], o())).stdout.split('\n');
    for (const n of [...ODD_VMS, ...SIBLINGS]) expect(names.filter((l) => l === n), n).toHaveLength(1);
    for (const n of ODD_VMS) {
      const info = parseOutput(['vm', 'info', n], (await cliOk(['vm', 'info', '-o', 'json', '--', n], o())).stdout) as { name: string; disks: Array<{ source: string | null }> };
      expect(info.name).toBe(n);
      expect(info.disks.map((d) => d.source)).toEqual(n === 'relh-a;relh-b' ? [join(poolDir(), 'relh-ab.qcow2')] : []);
      const xml = await cliOk(['vm', 'xml', '--', n], o());
      expect(xpath(xml.stdout, 'string(/domain/name)')).toBe(n);
    }
    // Reading a name that does not exist but looks like a command is only a lookup.
    const ghost = await cli(['vm', 'info', '--', 'relh-a;undefine --domain relh-a'], o());
    expect(ghost.code).toBe(3);
    expect(ghost.stderr).toMatch(/VM "relh-a;undefine --domain relh-a" not found/);
    expect(virsh('domstate', '--domain', 'relh-a').code).toBe(0);
    for (const f of PWNED) expect(existsSync(f), f).toBe(false);
    record('hostile: literal names', 'vm list / info / xml', `${ODD_VMS.length} odd names with ${SIBLINGS.length} siblings, plus a command-like unknown name`, ODD_VMS.length * 2 + 2);
  });

  it('start, destroy and stop act on exactly the odd-named VM; the running sibling keeps running', async () => {
    await cliOk(['vm', 'start', '--', 'relh-a'], o());
    try {
      for (const [n, stop] of [
        ['relh-a;relh-b', ['vm', 'destroy', '--', 'relh-a;relh-b']],
        ['-relh-x', ['vm', 'stop', '--timeout', '1', '--force', '--', '-relh-x']],
      ] as Array<[string, string[]]>) {
        const before = snapshotHost({ netns: '' });
        await cliOk(['vm', 'start', '--', n], o());
        expect(virsh('domstate', '--domain', n).stdout.trim()).toBe('running');
        await cliOk(stop, o());
        expect(virsh('domstate', '--domain', n).stdout.trim()).toBe('shut off');
        expect(virsh('domstate', '--domain', 'relh-a').stdout.trim()).toBe('running');
        expect(snapshotHost({ netns: '' })).toEqual(before);
      }
    } finally {
      virsh('destroy', '--domain', 'relh-a');
    }
    record('hostile: literal names', 'vm start / destroy / stop --force', 'odd-named VM started and stopped next to a running sibling', 2);
  });

  it('vm set changes only the odd-named VM; vm delete --remove-storage removes only it and its own disk', async () => {
    for (const n of ODD_VMS) {
      const before = snapshotHost({ dirs: [poolDir()], netns: '' });
      await cliOk(['vm', 'set', '--memory', '96M', '--', n], o());
      const after = snapshotHost({ dirs: [poolDir()], netns: '' });
      expect(after.domains[n]).toMatch(/<memory unit='KiB'>98304<\/memory>/);
      expect({ ...after, domains: { ...after.domains, [n]: '' } }).toEqual({ ...before, domains: { ...before.domains, [n]: '' } });
    }
    for (const n of ODD_VMS) {
      const before = snapshotHost({ dirs: [poolDir()], netns: '' });
      const r = await cliOk(['vm', 'delete', '--remove-storage', '--', n], o());
      expect(r.stdout).toMatch(new RegExp(`^vm ${escapeRegExp(n)} deleted`));
      const expected: HostState = structuredClone(before);
      delete expected.domains[n];
      expected.domainStates = expected.domainStates.filter((l) => l !== `${n}: shut off`);
      if (n === 'relh-a;relh-b') {
        delete expected.volumes[`${POOL}/relh-ab.qcow2`];
        delete expected.files[join(poolDir(), 'relh-ab.qcow2')];
      }
      expect(snapshotHost({ dirs: [poolDir()], netns: '' })).toEqual(expected);
    }
    // The siblings, and the sibling's disk, are all still there.
    for (const s of SIBLINGS) expect(virsh('domstate', '--domain', s).code, s).toBe(0);
    expect(virsh('vol-info', '--pool', POOL, '--vol', 'relh-a.qcow2').code).toBe(0);
    for (const f of PWNED) expect(existsSync(f), f).toBe(false);
    record('hostile: literal names', 'vm set / vm delete --remove-storage', 'each odd-named VM changed, then deleted; siblings and their disks untouched', ODD_VMS.length * 2);
  });

  it('objects with shell and XML metacharacters in their names, made with virsh, are inspected, snapshotted and removed as exactly that name', async () => {
    const before = snapshot();
    const volumes = ['relh-a;b.qcow2', 'relh-a|b.qcow2', 'relh-`id`.qcow2', 'relh-$(id).qcow2', 'relh x.qcow2', "relh-'q\".qcow2", 'relh->.qcow2', 'relh-a,b=c.qcow2'];
    for (const v of volumes) {
      makeVolume(v);
      const info = parseOutput(['volume', 'info'], (await cliOk(['volume', 'info', '-o', 'json', '--', `${POOL}/${v}`], o())).stdout) as { name: string; path: string };
      expect(info).toMatchObject({ name: v, path: join(poolDir(), v) });
      // A qemu-img step on it (its path goes through --image-opts, where ',' is special).
      await cliOk(['volume', 'snapshot', 'create', '--', `${POOL}/${v}`, 'snap1'], o());
      await cliOk(['volume', 'delete', '--', `${POOL}/${v}`], o());
      expect(existsSync(join(poolDir(), v)), v).toBe(false);
    }
    const vm = 'relh-c;d';
    makeVolume(`${vm}.qcow2`);
    defineVm(vm, `${vm}.qcow2`);
    expect(parseOutput(['vm', 'info', vm], (await cliOk(['vm', 'info', '-o', 'json', '--', vm], o())).stdout)).toMatchObject({ name: vm });
    await cliOk(['vm', 'delete', '--remove-storage', '--', vm], o());
    expect(virsh('domstate', '--domain', vm).code).not.toBe(0);
    expect(existsSync(join(poolDir(), 'relh-c;d.qcow2'))).toBe(false);
    const net = 'relh-n;m';
    const netXml = join(poolDir(), '..', `${POOL}-net.xml`);
    writeFileSync(netXml, `<network><name>${xmlText(net)}</name><ip address='10.92.0.1' netmask='255.255.255.0'/></network>`);
    const defined = virsh('net-define', '--file', netXml);
    rmSync(netXml, { force: true });
    expect(defined.code, defined.stderr).toBe(0);
    expect(parseOutput(['net', 'info'], (await cliOk(['net', 'info', '-o', 'json', '--', net], o())).stdout)).toMatchObject({ name: net });
    await cliOk(['net', 'delete', '--', net], o());
    expect(virsh('net-info', '--network', net).code).not.toBe(0);
    const xml = await cliOk(['vm', 'create', '--boot', `${KERNEL()},cmdline=console=ttyS0 x=</cmdline><evil/>&`, '--network', 'none', '--print-xml', '--', 'relh-xml.new'], o());
    // The XML is well formed and says exactly what was given.
    expect(xpath(xml.stdout, 'concat(/domain/name, "|", /domain/os/cmdline)')).toBe('relh-xml.new|console=ttyS0 x=</cmdline><evil/>&');
    expect(snapshot()).toEqual(before);
    for (const f of PWNED) expect(existsSync(f), f).toBe(false);
    record('hostile: literal names', 'volume info/snapshot/delete, vm info/delete, net info/delete of objects made by virsh, --print-xml', 'names with ; | ` $( ) space quotes > , = (volumes), ; (VM, network), < & (XML)', volumes.length + 3);
  });

  it('volumes and VMs made by virsh with names that look like XML entities or markup are copied and removed as exactly those names', async () => {
    const before = snapshot();
    const volumes = ['relh-a&amp;b.qcow2', '..&#47;relh-x.qcow2', 'relh-<x>.qcow2'];
    const made: string[] = [];
    for (const [i, v] of volumes.entries()) {
      makeVolume(v);
      await cliOk(['volume', 'clone', '--', `${POOL}/${v}`, `relh-copy${i}.qcow2`], o());
      await cliOk(['volume', 'clone', '--linked', '--', `${POOL}/${v}`, `relh-overlay${i}.qcow2`], o());
      made.push(v, `relh-copy${i}.qcow2`, `relh-overlay${i}.qcow2`);
      // The overlay's backing file is the odd-named volume itself, by its exact name.
      const overlay = parseOutput(['volume', 'info'], (await cliOk(['volume', 'info', '-o', 'json', '--', `${POOL}/relh-overlay${i}.qcow2`], o())).stdout) as { backingFile?: string };
      expect(overlay.backingFile).toBe(join(poolDir(), v));
    }
    for (const v of made) {
      // The file has exactly the name given (an entity decoded by libvirt would have named another).
      expect(existsSync(join(poolDir(), v)), v).toBe(true);
      const info = parseOutput(['volume', 'info'], (await cliOk(['volume', 'info', '-o', 'json', '--', `${POOL}/${v}`], o())).stdout) as { name: string; path: string };
      expect(info).toMatchObject({ name: v, path: join(poolDir(), v) });
    }
    expect(existsSync(join(poolDir(), 'relh-a&b.qcow2'))).toBe(false);
    expect(existsSync(join(poolDir(), '..', 'relh-x.qcow2'))).toBe(false);
    for (const vm of XML_VMS) {
      makeVolume(`${vm}.qcow2`);
      defineVm(vm, `${vm}.qcow2`);
    }
    const [a, b] = XML_VMS as [string, string];
    // A clone of a VM whose disk has such a name: the copy is made from exactly that file.
    await cliOk(['vm', 'clone', '--', a, 'relh-eclone'], o());
    expect(virsh('domstate', '--domain', 'relh-eclone').stdout.trim()).toBe('shut off');
    expect(existsSync(join(poolDir(), 'relh-eclone.qcow2'))).toBe(true);
    for (const vm of ['relh-eclone', b, a]) await cliOk(['vm', 'delete', '--remove-storage', '--', vm], o());
    for (const vm of XML_VMS) expect(existsSync(join(poolDir(), `${vm}.qcow2`)), vm).toBe(false);
    for (const v of [...made].reverse()) await cliOk(['volume', 'delete', '--', `${POOL}/${v}`], o());
    expect(snapshot()).toEqual(before);
    record('hostile: literal names', 'volume clone/clone --linked/info/delete, vm clone/delete of objects made by virsh', 'volume names with &amp; &#47; < >, and VMs whose disks take such names', made.length + 3);
  });
});
