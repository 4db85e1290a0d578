/**
 * iptables-save parsing and rule ownership. kvmctl tags its own rules with a
 * comment so that teardown removes exactly what it added.
 */
import { formatCommand, mutatingCommand, readCommand, shellQuote, type Command } from '../exec/command.js';
import { firstLine, runChecked, ToolError, type Runner } from '../exec/runner.js';
import type { Transaction } from '../exec/transaction.js';
import { UsageError } from '../errors.js';

export function iptablesSaveCommand(): Command {
  return readCommand('iptables-save', []);
}

/**
 * The two kernel interfaces iptables can drive (Debian's iptables package
 * ships both): rules in each are applied, but `iptables` shows and changes
 * only the one its alternative points to.
 */
export const IPTABLES_BACKENDS = ['iptables-legacy-save', 'iptables-nft-save'] as const;

export function backendSaveCommand(program: (typeof IPTABLES_BACKENDS)[number]): Command {
  return readCommand(program, []);
}

/** How many rules an iptables-save output holds. */
export function ruleCount(saved: string): number {
  return saved.split('\n').filter((l) => l.startsWith('-A ')).length;
}

export interface Chain {
  name: string;
  /** ACCEPT/DROP for built-in chains, undefined ('-') for user chains. */
  policy?: string;
}

export interface Rule {
  table: string;
  chain: string;
  /** The rule as iptables-save prints it, without the leading "-A CHAIN". */
  spec: string;
  target?: string;
  source?: string;
  destination?: string;
  inIface?: string;
  outIface?: string;
  protocol?: string;
  comment?: string;
  toDestination?: string;
  toSource?: string;
  dport?: string;
}

export interface IptablesState {
  chains: Record<string, Chain[]>;
  rules: Rule[];
}

export function parseIptablesSave(text: string): IptablesState {
  const state: IptablesState = { chains: {}, rules: [] };
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      state.chains[table] = [];
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name) state.chains[table]?.push({ name, policy: policy && policy !== '-' ? policy : undefined });
    } else if (line.startsWith('-A ')) {
      const words = splitRule(line);
      const chain = words[1] ?? '';
      const rule: Rule = { table, chain, spec: line.slice(3 + chain.length).trim() };
      let negate = false;
      for (let i = 2; i < words.length; i++) {
        const w = words[i];
        if (w === '!') {
          negate = true;
          continue;
        }
        // iptables-save writes "! -d NET" for a negated match; keep the "!" on the value.
        const next = negate && words[i + 1] !== undefined ? `!${words[i + 1]}` : words[i + 1];
        negate = false;
        switch (w) {
          case '-j': rule.target = next; break;
          case '-s': rule.source = next; break;
          case '-d': rule.destination = next; break;
          case '-i': rule.inIface = next; break;
          case '-o': rule.outIface = next; break;
          case '-p': rule.protocol = next; break;
          case '--comment': rule.comment = next; break;
          case '--to-destination': rule.toDestination = next; break;
          case '--to-source': rule.toSource = next; break;
          case '--dport': rule.dport = next; break;
        }
      }
      state.rules.push(rule);
    }
  }
  return state;
}

/** Splits an iptables-save line into words, honouring the double quotes around comments. */
export function splitRule(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return words;
}

export type RuleOwner = 'kvmctl' | 'libvirt' | 'docker' | 'other';

export const KVMCTL_TAG_PREFIX = 'kvmctl:';

export function ruleOwner(rule: Rule): RuleOwner {
  if (rule.comment?.startsWith(KVMCTL_TAG_PREFIX)) return 'kvmctl';
  if (/^LIBVIRT_/.test(rule.chain) || /^LIBVIRT_/.test(rule.target ?? '')) return 'libvirt';
  if (/^DOCKER/.test(rule.chain) || /^DOCKER/.test(rule.target ?? '')) return 'docker';
  return 'other';
}

const NAT_TARGETS = new Set(['MASQUERADE', 'SNAT', 'DNAT', 'REDIRECT']);

export interface NatRule {
  chain: string;
  target: string;
  source?: string;
  destination?: string;
  outIface?: string;
  inIface?: string;
  protocol?: string;
  dport?: string;
  to?: string;
  owner: RuleOwner;
  comment?: string;
  spec: string;
}

export function natRules(state: IptablesState): NatRule[] {
  return state.rules
    .filter((r) => r.table === 'nat' && r.target !== undefined && NAT_TARGETS.has(r.target))
    .map((r) => ({
      chain: r.chain,
      target: r.target as string,
      source: r.source,
      destination: r.destination,
      outIface: r.outIface,
      inIface: r.inIface,
      protocol: r.protocol,
      dport: r.dport,
      to: r.toDestination ?? r.toSource,
      owner: ruleOwner(r),
      comment: r.comment,
      spec: r.spec,
    }));
}

/** A NAT rule's identity across iptables-save runs. */
export function natRuleKey(r: Pick<NatRule, 'chain' | 'spec'>): string {
  return `${r.chain} ${r.spec}`;
}

export function chainPolicy(state: IptablesState, table: string, chain: string): string | undefined {
  return state.chains[table]?.find((c) => c.name === chain)?.policy;
}

// ---- rules kvmctl adds -----------------------------------------------------

/** A rule kvmctl adds: table, chain and the words after "-A CHAIN" (matches, comment, target). */
export interface IptablesRule {
  table: 'nat' | 'filter';
  chain: string;
  spec: string[];
}

/** The two kinds of rule sets kvmctl owns; the tag is kvmctl:<kind>:<bridge or forward id>. */
export const NAT_TAG_KIND = 'nat';
export const FORWARD_TAG_KIND = 'fwd';

export function kvmctlTag(kind: typeof NAT_TAG_KIND | typeof FORWARD_TAG_KIND, id: string): string {
  return `${KVMCTL_TAG_PREFIX}${kind}:${id}`;
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

export type Protocol = 'tcp' | 'udp';

/** One port or an inclusive range (start <= end). */
export interface PortRange {
  start: number;
  end: number;
}

export function formatPortRange(r: PortRange, sep = '-'): string {
  return r.start === r.end ? String(r.start) : `${r.start}${sep}${r.end}`;
}

export interface PortForward {
  protocol: Protocol;
  /** Ports on the host's own addresses. */
  hostPorts: PortRange;
  toAddress: string;
  /** The ports on the target; the same as hostPorts when a range is forwarded. */
  toPorts: PortRange;
}

/** The id of a forward: protocol and host port(s), unique on a host. */
export function forwardId(protocol: Protocol, hostPorts: PortRange): string {
  return `${protocol}-${formatPortRange(hostPorts)}`;
}

/** PREROUTING and OUTPUT DNAT, FORWARD in and back: how many rules portForwardRulesFor makes. */
export const RULES_PER_FORWARD = 4;

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

// ---- commands ----------------------------------------------------------------

/** -w: wait for a held xtables lock (up to 30 s) instead of failing at once. */
const WAIT = ['-w', '30'];

/** Inserts at the top of the chain, so no earlier ACCEPT/REJECT of another tool decides first. */
export function iptablesInsertCommand(rule: IptablesRule): Command {
  return mutatingCommand('iptables', [...WAIT, '-t', rule.table, '-I', rule.chain, ...rule.spec]);
}

/** iptables -C: exits 0 when the rule exists, 1 when it does not. */
export function iptablesCheckCommand(rule: IptablesRule): Command {
  return readCommand('iptables', [...WAIT, '-t', rule.table, '-C', rule.chain, ...rule.spec]);
}

export function iptablesDeleteCommand(rule: IptablesRule): Command {
  return mutatingCommand('iptables', [...WAIT, '-t', rule.table, '-D', rule.chain, ...rule.spec]);
}

/** A rule read from iptables-save as an IptablesRule (its words are valid for -D/-C). */
export function savedRule(rule: Rule): IptablesRule {
  return { table: rule.table as IptablesRule['table'], chain: rule.chain, spec: splitRule(rule.spec) };
}

/** The rules that carry exactly this tag, in iptables-save order. */
export function rulesTagged(state: IptablesState, tag: string): Rule[] {
  return state.rules.filter((r) => r.comment === tag);
}

/** The ids of every rule set of a kind, e.g. the bridges with kvmctl NAT. */
export function taggedIds(state: IptablesState, kind: typeof NAT_TAG_KIND | typeof FORWARD_TAG_KIND): string[] {
  const prefix = `${KVMCTL_TAG_PREFIX}${kind}:`;
  const ids = state.rules.filter((r) => r.comment?.startsWith(prefix)).map((r) => (r.comment as string).slice(prefix.length));
  return [...new Set(ids)];
}

/** "2222" or "8000:8010" (iptables' --dport) -> a range. */
export function parseDport(text: string | undefined): PortRange | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:[:-](\d+))?$/.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]);
  return { start, end: m[2] !== undefined ? Number(m[2]) : start };
}

/** The port forwards kvmctl made, read back from their PREROUTING rules. */
export interface SavedForward extends PortForward {
  id: string;
  /** How many of the forward's rules exist (4 when complete). */
  ruleCount: number;
}

/** "tcp-2222" or "udp-5300-5310" -> protocol and host ports. */
export function parseForwardId(id: string): { protocol: Protocol; hostPorts: PortRange } | undefined {
  const m = /^(tcp|udp)-(\d+)(?:-(\d+))?$/.exec(id);
  if (!m) return undefined;
  const start = Number(m[2]);
  return { protocol: m[1] as Protocol, hostPorts: { start, end: m[3] !== undefined ? Number(m[3]) : start } };
}

export function savedForwards(state: IptablesState): SavedForward[] {
  const out: SavedForward[] = [];
  for (const id of taggedIds(state, FORWARD_TAG_KIND)) {
    const parsed = parseForwardId(id);
    if (!parsed) continue;
    const rules = rulesTagged(state, kvmctlTag(FORWARD_TAG_KIND, id));
    // The target is in the DNAT rules; after an interrupted delete only some rules may be left.
    const dnat = rules.find((r) => r.target === 'DNAT' && r.toDestination !== undefined);
    const to = /^([^:]+)(?::(\d+(?:-\d+)?))?$/.exec(dnat?.toDestination ?? '');
    out.push({
      id,
      ...parsed,
      toAddress: to?.[1] ?? '',
      toPorts: parseDport(to?.[2]) ?? parsed.hostPorts,
      ruleCount: rules.length,
    });
  }
  return out;
}

export function portRangesOverlap(a: PortRange, b: PortRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** Reads the whole firewall of the namespace kvmctl runs in, in one process. */
export async function loadIptables(runner: Runner): Promise<IptablesState> {
  const cmd = iptablesSaveCommand();
  const result = await runner.run(cmd);
  if (result.exitCode !== 0) {
    throw new ToolError(cmd, result, `cannot read the firewall: iptables-save failed: ${firstLine(result.stderr) || `exit ${result.exitCode}`}`, 'run kvmctl as root');
  }
  return parseIptablesSave(result.stdout);
}

/** Inserts a rule and registers its removal with the transaction. */
export async function insertRule(runner: Runner, tx: Transaction, rule: IptablesRule): Promise<void> {
  await runChecked(runner, iptablesInsertCommand(rule));
  tx.onRollback({
    what: `iptables rule -t ${rule.table} ${rule.chain} ${rule.spec.join(' ')}`,
    manual: formatCommand(iptablesDeleteCommand(rule)),
    run: async () => void (await runChecked(runner, iptablesDeleteCommand(rule))),
  });
}

/** Deletes a rule read from iptables-save and registers putting it back. */
export async function deleteSavedRule(runner: Runner, tx: Transaction, saved: Rule): Promise<void> {
  const rule = savedRule(saved);
  await runChecked(runner, iptablesDeleteCommand(rule));
  tx.onRollback({
    what: `removed iptables rule -t ${rule.table} ${rule.chain} ${saved.spec}`,
    manual: formatCommand(iptablesInsertCommand(rule)),
    run: async () => void (await runChecked(runner, iptablesInsertCommand(rule))),
  });
}
