/**
 * The rules kvmctl adds, built from named constants and tagged with a comment
 * (kvmctl:nat:BRIDGE, kvmctl:fwd:PROTO-PORTS).
 */
import { shellQuote } from '../exec/command.js';
import { UsageError } from '../errors.js';
import { forwardId, formatPortRange, type PortForward } from './port-forward.js';
import { FORWARD_TAG_KIND, kvmctlTag, NAT_TAG_KIND } from './rule-owner.js';

/** A rule kvmctl adds: table, chain and the words after "-A CHAIN" (matches, comment, target). */
export interface IptablesRule {
  table: 'nat' | 'filter';
  chain: string;
  spec: string[];
}

const POSTROUTING = 'POSTROUTING';
const PREROUTING = 'PREROUTING';
const OUTPUT = 'OUTPUT';
const FORWARD = 'FORWARD';
const REPLIES = 'RELATED,ESTABLISHED';
/** Traffic the kernel already rewrote with a DNAT rule (conntrack's virtual state). */
const DNATTED = 'DNAT';
/** Loopback destinations reach only local services; a forward must not capture them. */
const LOOPBACK = '127.0.0.0/8';

function comment(tag: string): string[] {
  return ['-m', 'comment', '--comment', tag];
}

/**
 * An interface name that iptables reads as exactly that interface. iptables
 * (libxtables, xtables_parse_interface) reads a trailing '+' as a wildcard:
 * `-i x+` matches every interface whose name starts with "x". The kernel
 * accepts '+' anywhere in a name, so an existing bridge can be called that; a
 * leading '!' is iptables' old negation syntax. Such a name never reaches an
 * iptables argument.
 */
export function validateIptablesIfaceName(option: string, name: string): string {
  const refuse = (why: string) =>
    new UsageError(
      `${option} ${JSON.stringify(name)}: ${why}, so kvmctl cannot write a rule for that interface alone`,
      `rename the interface to one without '+' or a leading '!' (e.g. ip link set dev ${shellQuote(name)} name br0), then run this again`,
    );
  if (name.includes('+')) throw refuse(`iptables reads '+' in an interface name as a wildcard ("-i ${name}" would match every interface whose name starts with "${name.slice(0, name.indexOf('+'))}")`);
  if (name.startsWith('!')) throw refuse("iptables reads a leading '!' as negation");
  return name;
}

/**
 * NAT for a bridge, as libvirt does it for virbr0: masquerade what leaves the
 * subnet, let the subnet out through FORWARD and let the replies back in.
 */
export function natRulesFor(bridge: string, subnet: string, outIface?: string): IptablesRule[] {
  validateIptablesIfaceName('--bridge', bridge);
  if (outIface !== undefined) validateIptablesIfaceName('--out', outIface);
  const tag = kvmctlTag(NAT_TAG_KIND, bridge);
  const out = outIface !== undefined ? ['-o', outIface] : [];
  const inFromOut = outIface !== undefined ? ['-i', outIface] : [];
  return [
    { table: 'nat', chain: POSTROUTING, spec: ['-s', subnet, '!', '-d', subnet, ...out, ...comment(tag), '-j', 'MASQUERADE'] },
    { table: 'filter', chain: FORWARD, spec: ['-s', subnet, '-i', bridge, ...out, ...comment(tag), '-j', 'ACCEPT'] },
    {
      table: 'filter',
      chain: FORWARD,
      spec: [...inFromOut, '-d', subnet, '-o', bridge, '-m', 'conntrack', '--ctstate', REPLIES, ...comment(tag), '-j', 'ACCEPT'],
    },
  ];
}

/**
 * A port forward: DNAT for traffic arriving from outside (PREROUTING) and for
 * locally generated traffic (OUTPUT), both only for the host's own addresses,
 * and the FORWARD accepts for the rewritten traffic and its replies.
 */
export function portForwardRulesFor(f: PortForward): IptablesRule[] {
  const tag = kvmctlTag(FORWARD_TAG_KIND, forwardId(f.protocol, f.hostPorts));
  const p = f.protocol;
  const sameRange = f.hostPorts.start !== f.hostPorts.end;
  // A range keeps its ports (DNAT to a range would pick any port in it).
  const to = sameRange ? f.toAddress : `${f.toAddress}:${f.toPorts.start}`;
  const dnat = (chain: string, extra: string[]): IptablesRule => ({
    table: 'nat',
    chain,
    spec: [...extra, '-p', p, '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', p, '--dport', formatPortRange(f.hostPorts, ':'), ...comment(tag), '-j', 'DNAT', '--to-destination', to],
  });
  const target = `${f.toAddress}/32`;
  const targetPorts = formatPortRange(f.toPorts, ':');
  return [
    dnat(PREROUTING, []),
    dnat(OUTPUT, ['!', '-d', LOOPBACK]),
    {
      table: 'filter',
      chain: FORWARD,
      spec: ['-d', target, '-p', p, '-m', p, '--dport', targetPorts, '-m', 'conntrack', '--ctstate', DNATTED, ...comment(tag), '-j', 'ACCEPT'],
    },
    {
      table: 'filter',
      chain: FORWARD,
      spec: ['-s', target, '-p', p, '-m', p, '--sport', targetPorts, '-m', 'conntrack', '--ctstate', REPLIES, ...comment(tag), '-j', 'ACCEPT'],
    },
  ];
}
