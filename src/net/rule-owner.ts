/**
 * Who a rule belongs to: kvmctl tags its own with a comment (kvmctl:KIND:ID) so
 * that teardown removes exactly what it added; libvirt's and docker's are known
 * by their chains.
 */
import type { IptablesState, Rule } from './iptables-save.js';

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

/** The two kinds of rule sets kvmctl owns; the tag is kvmctl:<kind>:<bridge or forward id>. */
export const NAT_TAG_KIND = 'nat';
export const FORWARD_TAG_KIND = 'fwd';

export function kvmctlTag(kind: typeof NAT_TAG_KIND | typeof FORWARD_TAG_KIND, id: string): string {
  return `${KVMCTL_TAG_PREFIX}${kind}:${id}`;
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
