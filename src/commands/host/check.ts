import { verb } from '../../verb.js';
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { gatherHostFacts, type HostFacts } from '../../host/facts.js';
import { checkRecordedNat, natProblems, type RecordedNatCheck } from '../net/nat/check.js';
import type { Column } from '../../output/table.js';
import { kvmctlCommand } from '../../exec/command.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** One line telling how to fix a warn/fail. */
  fix?: string;
}

const TOOL_PACKAGES: Record<string, string> = {
  virsh: 'apt-get install libvirt-clients (dnf install libvirt-client)',
  'qemu-img': 'apt-get install qemu-utils (dnf install qemu-img)',
  ip: 'apt-get install iproute2 (dnf install iproute)',
  iptables: 'apt-get install iptables (dnf install iptables-nft)',
};

/** What host check reads besides the report's facts: kvmctl's recorded NAT, and the rules each iptables backend holds. */
export interface FirewallFacts {
  nat?: RecordedNatCheck;
  /** Rules per backend that could be read (a missing tool is left out). */
  backends: Array<{ program: string; rules: number }>;
}

/** Turns host facts into ok/warn/fail checks; pure, so every rule is unit-tested. */
export function hostChecks(f: HostFacts, fw: FirewallFacts = { backends: [] }): Check[] {
  const checks: Check[] = [];
  const add = (name: string, status: CheckStatus, message: string, fix?: string) => checks.push({ name, status, message, fix });
  // A fix that is a kvmctl command names the host it was checked on (-c URI), so that pasting it acts there.
  const kvmctl = (...words: string[]) => kvmctlCommand(f.libvirt.uri, ...words);

  const v = f.virtualization;
  if (v.kvmUsable) add('kvm', 'ok', v.reason);
  else if (!f.libvirt.reachable || f.libvirt.domainTypes.includes('qemu')) {
    add('kvm', 'warn', `KVM not usable: ${v.reason}`, 'enable VT-x/AMD-V in firmware and load kvm_intel/kvm_amd; until then create VMs with --virt-type qemu');
  } else add('kvm', 'fail', `KVM not usable and the hypervisor offers no emulation: ${v.reason}`, 'install qemu-system-x86 (Fedora: qemu-kvm) and restart libvirtd');

  if (f.libvirt.reachable) add('libvirt', 'ok', `reachable at ${f.libvirt.uri} (daemon ${f.libvirt.daemonVersion ?? 'unknown'})`);
  else add('libvirt', 'fail', f.libvirt.error ?? `cannot reach libvirt at ${f.libvirt.uri}`, 'start it: systemctl start libvirtd (or virtqemud.socket), or pass the right URI with -c');

  if (f.libvirt.reachable) {
    const def = f.networks.find((n) => n.name === 'default');
    if (!def) add('default-network', 'warn', 'libvirt network "default" is not defined: VMs created with --network network=default will fail', kvmctl('net', 'create', 'default', '--mode', 'nat', '--subnet', '192.168.122.0/24'));
    else if (!def.active) add('default-network', 'fail', 'libvirt network "default" is defined but not active', `${kvmctl('net', 'start', 'default')} && ${kvmctl('net', 'autostart', 'default')}`);
    else add('default-network', 'ok', `network "default" is active on ${def.bridge ?? '?'} (${def.subnet ?? 'no subnet'})`);

    if (f.pools.length === 0) add('storage-pool', 'warn', 'no storage pool is defined: disks cannot be created', kvmctl('pool', 'create', 'default', '--type', 'dir', '--path', '/var/lib/libvirt/images'));
    else add('storage-pool', 'ok', `${f.pools.length} storage pool(s): ${f.pools.join(', ')}`);
  }

  const natActive = f.networks.some((n) => n.active && (n.mode === 'nat' || n.mode === 'route'));
  if (f.nat.ipForward === false && natActive) {
    add('ip-forward', 'fail', 'net.ipv4.ip_forward is off while a NAT/routed libvirt network is active: VMs cannot reach the outside', 'sysctl -w net.ipv4.ip_forward=1 (persist it in /etc/sysctl.d/)');
  } else if (f.nat.ipForward !== undefined) {
    add('ip-forward', 'ok', `net.ipv4.ip_forward is ${f.nat.ipForward ? 'on' : 'off (no NAT network active)'}`);
  }

  if (f.nat.forwardPolicy === 'DROP') {
    if (f.nat.bridgeNfCallIptables) {
      add('forward-policy', 'fail', 'the FORWARD policy is DROP (as Docker sets it) and br_netfilter sends bridged frames through iptables: bridged VMs lose traffic', 'sysctl -w net.bridge.bridge-nf-call-iptables=0, or add ACCEPT rules for the VM bridges');
    } else {
      add('forward-policy', 'warn', 'the FORWARD policy is DROP (as Docker sets it): routed VM traffic not covered by libvirt\'s or kvmctl\'s rules is dropped', `use ${kvmctl('net', 'nat', 'enable')} --bridge BRIDGE --subnet SUBNET for hand-made bridges, or iptables -I FORWARD -i BRIDGE -j ACCEPT`);
    }
  } else if (f.nat.forwardPolicy) add('forward-policy', 'ok', `the FORWARD policy is ${f.nat.forwardPolicy}`);
  else if (f.nat.error) add('forward-policy', 'warn', `cannot read the firewall: ${f.nat.error}`, 'run as root, and install iptables');

  if (f.nat.bridgeNfCallIptables) {
    add('br-netfilter', 'warn', 'br_netfilter is loaded with bridge-nf-call-iptables=1: frames between VMs on a bridge pass through iptables', 'sysctl -w net.bridge.bridge-nf-call-iptables=0 unless you filter bridged traffic on purpose');
  }

  if (fw.nat && fw.nat.bridges.length > 0) {
    const problems = natProblems(fw.nat);
    if (problems !== undefined) add('kvmctl-nat', 'fail', problems, fw.nat.restore.join(' && '));
    else add('kvmctl-nat', 'ok', `all ${fw.nat.checks.length} kvmctl NAT rules are present (${fw.nat.bridges.map(([b]) => b).join(', ')})`);
  }
  const holding = fw.backends.filter((b) => b.rules > 0);
  if (holding.length > 1) {
    add(
      'iptables-backends',
      'warn',
      `both ${holding.map((b) => `${b.program.replace(/-save$/, '')} (${b.rules} rules)`).join(' and ')} hold rules: the kernel applies both, but iptables shows and changes only one of them`,
      'keep the rules in one backend: move them (e.g. iptables-legacy-save | iptables-nft-restore), flush the other, and point the iptables alternative at it',
    );
  }

  for (const t of f.tools) {
    if (t.path) add(`tool:${t.name}`, 'ok', `${t.name} found at ${t.path}`);
    else add(`tool:${t.name}`, t.name === 'virsh' || t.name === 'qemu-img' ? 'fail' : 'warn', `${t.name} is not installed`, TOOL_PACKAGES[t.name]);
  }
  return checks;
}

const checkColumns: Column<Check>[] = [
  { header: 'CHECK', value: (c) => c.name },
  {
    header: 'STATUS',
    value: (c) => c.status,
    color: (t, c, chalk) => (c.status === 'ok' ? chalk.green(t) : c.status === 'warn' ? chalk.yellow(t) : chalk.red(t)),
  },
  { header: 'DETAIL', value: (c) => c.message },
];

export async function runHostCheck(ctx: Context): Promise<void> {
  const [facts, nat, backends] = await Promise.all([gatherHostFacts(ctx), checkRecordedNat(ctx), ctx.iptables.backendRuleCounts()]);
  const checks = hostChecks(facts, { nat, backends });
  const failed = checks.filter((c) => c.status === 'fail');
  const summary = { ok: failed.length === 0, failures: failed.length, warnings: checks.filter((c) => c.status === 'warn').length, checks: checks.map((c) => ({ ...c, fix: c.fix ?? null })) };
  if (ctx.out.json) ctx.out.printJson(summary);
  else {
    ctx.out.list(checkColumns, checks);
    ctx.out.footnote('To fix', checks.filter((c) => c.status !== 'ok' && c.fix).map((c) => `${c.name}: ${c.fix}`));
  }
  if (failed.length > 0) {
    throw new RefusedError(`host check: ${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}`, `apply the fixes listed above, then run ${kvmctlCommand(ctx.uri, 'host', 'check')} again`);
  }
}

export const hostCheckCommand = verb('check', 'check the host for common problems; exit 0 without failures, 5 with any', runHostCheck, {
  examples: ['kvmctl host check', 'kvmctl host check -o json'],
  fanOut: true,
  listColumns: checkColumns,
});
