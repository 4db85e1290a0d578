/**
 * `kvmctl __complete WORD...`: the candidates for the last word of a command line,
 * worked out from the commander tree, in the protocol of cobra's `__complete`
 * (one candidate a line, `value<TAB>description`, then `:DIRECTIVE`), which the
 * scripts of `kvmctl completion SHELL` read. Names of live objects come from the
 * host in one call (virsh with the line's own -c, or ip for bridges); when that
 * call fails there are simply no candidates.
 */
import type { Command, Option } from 'commander';
import { resolveUri } from '../../app.js';
import type { Deps } from '../../context.js';
import { objectNameCalls } from '../../libvirt/object-names.js';
import { parseNameList, parseVolList } from '../../libvirt/storage.js';
import { Virsh, type VirshCall } from '../../libvirt/virsh-client.js';
import { bridgesOf, Ip } from '../../net/ip.js';
import { OUTPUT_FORMATS } from '../../output/output.js';

export const COMPLETE_COMMAND = '__complete';

/** cobra's ShellCompDirective bits. */
export const Directive = { Error: 1, NoSpace: 2, NoFileComp: 4, FilterDirs: 16 } as const;

type Kind = 'vm' | 'pool' | 'volume' | 'network' | 'bridge' | 'nic' | 'file' | 'dir';

/** Values of options that name something; options with choices complete those. */
const OPTION_KINDS: Record<string, Kind | readonly string[]> = {
  '--output': OUTPUT_FORMATS,
  '--pool': 'pool',
  '--image': 'volume',
  '--backing': 'volume',
  '--network': 'nic',
  '--bridge': 'bridge',
  '--net': 'network',
  '--ssh-key': 'file',
  '--cdrom': 'file',
  '--log-dir': 'dir',
  '--path': 'dir',
};

/** What a positional argument names; the `name` of a create (or of clone's copy) is a new name. */
function argumentKind(path: string[], arg: string): Kind | undefined {
  const [noun, verb] = path;
  const creates = path.length === 2 && (verb === 'create' || verb === 'clone');
  if (arg === 'source' && noun === 'vm') return 'vm';
  if (arg === 'pool/name' || arg === 'pool/src') return 'volume';
  if (arg === 'file') return 'file';
  if (arg === 'bridge') return 'bridge';
  if (arg !== 'name' || creates) return undefined;
  return ({ vm: 'vm', pool: 'pool', net: 'network', bridge: 'bridge' } as Record<string, Kind>)[noun ?? ''];
}

interface Candidate {
  value: string;
  description?: string;
}

interface Located {
  cmd: Command;
  path: string[];
  positionals: string[];
  /** An option whose value is the word being completed. */
  pending?: Option;
  connect?: string;
  afterDashDash: boolean;
}

/** The command's own options (with -h), then those of its ancestors (global ones; --version only at the top). */
function optionsInScope(cmd: Command): Option[] {
  const all = cmd.createHelp().visibleOptions(cmd);
  for (let c = cmd.parent; c; c = c.parent) all.push(...c.options.filter((o) => !o.hidden && o.long !== '--version'));
  return all;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return optionsInScope(cmd).find((o) => o.long === flag || o.short === flag || o.long === flag.replace(/^--no-/, '--'));
}

const takesValue = (o: Option) => o.required || o.optional;

/** Walks the words before the last one through the tree: which command, which arguments so far. */
function locate(program: Command, words: string[]): Located {
  const at: Located = { cmd: program, path: [], positionals: [], afterDashDash: false };
  for (const word of words) {
    if (at.pending) {
      if (at.pending.long === '--connect') at.connect = word;
      at.pending = undefined;
    } else if (!at.afterDashDash && word === '--') {
      at.afterDashDash = true;
    } else if (!at.afterDashDash && word.startsWith('-') && word !== '-') {
      const eq = word.startsWith('--') ? word.indexOf('=') : -1;
      const opt = findOption(at.cmd, eq < 0 ? word : word.slice(0, eq));
      if (opt && takesValue(opt) && eq < 0) at.pending = opt;
      if (opt?.long === '--connect' && eq >= 0) at.connect = word.slice(eq + 1);
    } else {
      const sub = at.positionals.length === 0 && !at.afterDashDash ? at.cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
      if (sub) {
        at.cmd = sub;
        at.path.push(sub.name());
      } else at.positionals.push(word);
    }
  }
  return at;
}

interface Answer {
  candidates: Candidate[];
  directive: number;
}

/** Names from the host, or none: a completion that fails offers nothing rather than an error. */
async function names(ask: () => Promise<string[]>): Promise<string[]> {
  try {
    return await ask();
  } catch {
    return [];
  }
}

async function kindCandidates(kind: Kind, cur: string, deps: Deps, uri: string | undefined): Promise<Answer> {
  const none = Directive.NoFileComp;
  const plain = (values: string[], directive: number = none): Answer => ({ candidates: values.map((value) => ({ value })), directive });
  const virsh = (call: VirshCall, parse = parseNameList) => (uri === undefined ? Promise.resolve([]) : names(async () => parse(await new Virsh(deps.runner, uri).run(call))));
  const bridges = () => names(async () => bridgesOf(await new Ip(deps.runner).links()).map((b) => b.name));
  switch (kind) {
    case 'vm':
      return plain(await virsh(objectNameCalls.vms()));
    case 'pool':
      return plain(await virsh(objectNameCalls.pools()));
    case 'network':
      return plain(await virsh(objectNameCalls.networks()));
    case 'bridge':
      return plain(await bridges());
    case 'volume': {
      const slash = cur.indexOf('/');
      if (slash < 0) return plain((await virsh(objectNameCalls.pools())).map((p) => `${p}/`), none | Directive.NoSpace);
      const pool = cur.slice(0, slash);
      const vols = await virsh(objectNameCalls.volumes(pool), (out) => parseVolList(out).map((v) => v.name));
      return plain(vols.map((v) => `${pool}/${v}`));
    }
    case 'nic':
      if (cur.startsWith('network=')) return plain((await virsh(objectNameCalls.networks())).map((n) => `network=${n}`), none | Directive.NoSpace);
      if (cur.startsWith('bridge=')) return plain((await bridges()).map((b) => `bridge=${b}`), none | Directive.NoSpace);
      return plain(['network=', 'bridge=', 'none'], none | Directive.NoSpace);
    case 'file':
      return plain([], 0);
    case 'dir':
      return plain([], Directive.FilterDirs);
  }
}

async function valueCandidates(opt: Option, cur: string, deps: Deps, uri: string | undefined): Promise<Answer> {
  if (opt.argChoices) return { candidates: opt.argChoices.map((value) => ({ value })), directive: Directive.NoFileComp };
  const kind = OPTION_KINDS[opt.long ?? ''];
  if (kind === undefined) return { candidates: [], directive: Directive.NoFileComp };
  if (typeof kind !== 'string') return { candidates: kind.map((value) => ({ value })), directive: Directive.NoFileComp };
  return kindCandidates(kind, cur, deps, uri);
}

async function answer(program: Command, words: string[], deps: Deps): Promise<Answer> {
  const cur = words[words.length - 1] ?? '';
  const at = locate(program, words.slice(0, -1));
  let uri: string | undefined;
  try {
    uri = resolveUri(at.connect, deps.io.env);
  } catch {
    uri = undefined;
  }
  if (at.pending) return valueCandidates(at.pending, cur, deps, uri);
  if (!at.afterDashDash && cur.startsWith('--') && cur.includes('=')) {
    const flag = cur.slice(0, cur.indexOf('='));
    const opt = findOption(at.cmd, flag);
    if (!opt || !takesValue(opt)) return { candidates: [], directive: Directive.NoFileComp };
    const a = await valueCandidates(opt, cur.slice(flag.length + 1), deps, uri);
    return { ...a, candidates: a.candidates.map((c) => ({ ...c, value: `${flag}=${c.value}` })) };
  }
  if (!at.afterDashDash && cur.startsWith('-')) {
    const flags = optionsInScope(at.cmd).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined).map((value) => ({ value, description: o.description })));
    return { candidates: flags, directive: Directive.NoFileComp };
  }
  const help = at.cmd.createHelp();
  const subs = at.positionals.length === 0 && !at.afterDashDash ? help.visibleCommands(at.cmd).filter((c) => c.name() !== 'help').map((c) => ({ value: c.name(), description: c.description() })) : [];
  const args = at.cmd.registeredArguments;
  const arg = args[at.positionals.length] ?? (args[args.length - 1]?.variadic ? args[args.length - 1] : undefined);
  if (!arg) return { candidates: subs, directive: Directive.NoFileComp };
  if (arg.argChoices) return { candidates: [...subs, ...arg.argChoices.map((value) => ({ value }))], directive: Directive.NoFileComp };
  const kind = argumentKind(at.path, arg.name());
  if (!kind) return { candidates: subs, directive: Directive.NoFileComp };
  const a = await kindCandidates(kind, cur, deps, uri);
  return { candidates: [...subs, ...a.candidates], directive: a.directive };
}

/** Prints the candidates for words (the last is the word being completed, '' for a new one). */
export async function complete(program: Command, words: string[], deps: Deps): Promise<void> {
  const a = await answer(program, words, deps);
  const cur = words[words.length - 1] ?? '';
  // A name with a control character cannot be typed back safely: it is not offered.
  const lines = a.candidates
    .filter((c) => c.value.startsWith(cur) && !/[\x00-\x1f\x7f]/.test(c.value))
    .map((c) => (c.description ? `${c.value}\t${c.description.replace(/[\x00-\x1f\x7f]/g, ' ')}` : c.value));
  deps.io.stdout([...new Set(lines)].map((l) => `${l}\n`).join('') + `:${a.directive}\n`);
}
