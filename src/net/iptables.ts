/**
 * The iptables client: argv of every iptables(-save) call kvmctl makes, run
 * through one runner (the namespace or host kvmctl drives).
 */
import { mutatingCommand, readCommand, type Command } from '../exec/command.js';
import type { Step } from '../exec/plan.js';
import { firstLine, ToolError, type Runner } from '../exec/runner.js';
import { parseIptablesSave, ruleCount, splitRule, type IptablesState, type Rule } from './iptables-save.js';
import type { IptablesRule } from './kvmctl-rules.js';

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

/** iptables bound to a runner: reads the firewall, checks, inserts and deletes rules. */
export class Iptables {
  constructor(private readonly runner: Runner) {}

  /** The whole firewall of the namespace kvmctl runs in, in one process. */
  async load(): Promise<IptablesState> {
    const cmd = iptablesSaveCommand();
    const result = await this.runner.run(cmd);
    if (result.exitCode !== 0) {
      throw new ToolError(cmd, result, `cannot read the firewall: iptables-save failed: ${firstLine(result.stderr) || `exit ${result.exitCode}`}`, 'run kvmctl as root');
    }
    return parseIptablesSave(result.stdout);
  }

  /** Whether the rule is in its chain (iptables -C). */
  async has(rule: IptablesRule): Promise<boolean> {
    return (await this.runner.run(iptablesCheckCommand(rule))).exitCode === 0;
  }

  /** The rule count of each iptables backend installed here; one that is missing or fails is left out. */
  async backendRuleCounts(): Promise<Array<{ program: string; rules: number }>> {
    const read = await Promise.all(
      IPTABLES_BACKENDS.map(async (program) => {
        try {
          const r = await this.runner.run(backendSaveCommand(program));
          return r.exitCode === 0 ? [{ program, rules: ruleCount(r.stdout) }] : [];
        } catch {
          return [];
        }
      }),
    );
    return read.flat();
  }
}

/** Inserting a rule as a plan step; its undo deletes exactly that rule. */
export function insertRuleStep(rule: IptablesRule): Step {
  return { what: `iptables rule -t ${rule.table} ${rule.chain} ${rule.spec.join(' ')}`, do: { command: iptablesInsertCommand(rule) }, undo: { command: iptablesDeleteCommand(rule) } };
}

/** Deleting a rule read from iptables-save as a plan step; its undo puts it back. */
export function deleteSavedRuleStep(saved: Rule): Step {
  const rule = savedRule(saved);
  return { what: `removed iptables rule -t ${rule.table} ${rule.chain} ${saved.spec}`, do: { command: iptablesDeleteCommand(rule) }, undo: { command: iptablesInsertCommand(rule) } };
}
