import type { Command, Help } from 'commander';
import { EXIT_CODE_DOCS } from '../errors.js';

/**
 * kvmctl(1) in roff, written from the same commander tree that --help prints:
 * every command with its usage, description, arguments, options and the text
 * after its help (examples, notes), then the exit-code table. `helpAfter` gives
 * that text as --help prints it.
 */
export function renderManPage(program: Command, version: string, helpAfter: (cmd: Command) => string): string {
  const help = program.createHelp();
  const out: string[] = [
    `.TH KVMCTL 1 "" "kvmctl ${escapeRoff(version)}" "User Commands"`,
    // No hyphenation and ragged right: words stay as --help prints them.
    '.nh',
    '.ad l',
    '.SH NAME',
    `kvmctl \\- ${escapeRoff(program.description())}`,
    '.SH SYNOPSIS',
    '.B kvmctl',
    '[\\fIglobal options\\fR] \\fInoun\\fR [\\fIverb\\fR] [\\fIarguments\\fR] [\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    'kvmctl is one command line for a KVM host: VMs, storage pools and volumes, bridges, NAT and libvirt networks.',
    'It runs virsh, qemu-img, ip and iptables; every list and info command prints JSON with \\fB\\-o json\\fR.',
    '.SH GLOBAL OPTIONS',
    ...optionItems(help, program),
    ...afterText(helpAfter(program)),
    '.SH COMMANDS',
    ...commandItems(help, program),
  ];
  for (const cmd of walk(program)) {
    out.push(`.SS "${escapeRoff(help.commandUsage(cmd)).replace(/"/g, '""')}"`, escapeRoff(help.commandDescription(cmd)));
    const args = help.visibleArguments(cmd);
    if (args.length > 0) {
      out.push('.PP', 'Arguments:');
      for (const a of args) out.push('.TP', `\\fI${escapeRoff(help.argumentTerm(a))}\\fR`, escapeRoff(help.argumentDescription(a)));
    }
    out.push(...commandItems(help, cmd));
    out.push('.PP', 'Options:', ...optionItems(help, cmd), ...afterText(helpAfter(cmd)));
  }
  out.push('.SH EXIT STATUS');
  for (const [code, text] of EXIT_CODE_DOCS) out.push('.TP', `\\fB${code}\\fR`, escapeRoff(text));
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    '\\fBKVMCTL_URI\\fR, \\fBLIBVIRT_DEFAULT_URI\\fR',
    'the libvirt URI when \\fB\\-c\\fR is not given: the first of the two that is set and not empty (an empty one counts as unset), else qemu:///system',
    '.TP',
    '\\fBKVMCTL_HOSTS\\fR',
    'the hosts inventory that \\fB\\-H\\fR, \\fBvm migrate \\-\\-to\\fR and \\fBhost add|remove|list\\fR use; when unset or empty, \\fB$XDG_CONFIG_HOME/kvmctl/hosts.yaml\\fR (\\fB~/.config/kvmctl/hosts.yaml\\fR without \\fBXDG_CONFIG_HOME\\fR)',
    '.TP',
    '\\fBNO_COLOR\\fR',
    'never use colour',
    '.SH SEE ALSO',
    '.BR virsh (1),',
    '.BR qemu-img (1),',
    '.BR ip (8),',
    '.BR iptables (8)',
  );
  return out.join('\n') + '\n';
}

/** Every command under program (not program itself), depth first, in --help's order. */
export function walk(program: Command): Command[] {
  const help = program.createHelp();
  return help.visibleCommands(program).flatMap((c) => (c.name() === 'help' ? [] : [c, ...walk(c)]));
}

function commandItems(help: Help, cmd: Command): string[] {
  const subs = help.visibleCommands(cmd);
  if (subs.length === 0) return [];
  return ['.PP', 'Commands:', ...subs.flatMap((s) => ['.TP', `\\fB${escapeRoff(help.subcommandTerm(s))}\\fR`, escapeRoff(help.subcommandDescription(s))])];
}

function optionItems(help: Help, cmd: Command): string[] {
  return help.visibleOptions(cmd).flatMap((o) => ['.TP', `\\fB${escapeRoff(help.optionTerm(o))}\\fR`, escapeRoff(help.optionDescription(o))]);
}

/** The examples and notes --help prints after the options, kept line for line. */
function afterText(text: string): string[] {
  const lines = text.replace(/^\n+|\n+$/g, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return [];
  return ['.PP', '.nf', ...lines.map(escapeRoff), '.fi'];
}

/** Text as roff prints it literally: backslashes, hyphens and line-leading control characters escaped. */
export function escapeRoff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}
