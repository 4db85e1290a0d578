/** iptables-save output as data: tables, chains with their policies, and each rule's matches. */

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

export function chainPolicy(state: IptablesState, table: string, chain: string): string | undefined {
  return state.chains[table]?.find((c) => c.name === chain)?.policy;
}
