/**
 * Compares kvmctl(1) as `man` renders it with what `--help` prints, command by
 * command: the page must hold each command's usage, description, every argument,
 * option and subcommand with its description, and every line after the options
 * (examples, notes); and it must describe no command that --help does not list.
 * Used by the unit test (page rendered from the tree) and the package test (the
 * installed page against the installed CLI).
 */
import { spawnSync } from 'node:child_process';

export type HelpOf = (path: string[]) => string;

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

interface HelpFacts {
  usage: string;
  texts: string[];
  subcommands: string[];
}

/** What one --help output says, each fact with its wrapped lines joined. */
export function helpFacts(help: string): HelpFacts {
  const lines = help.split('\n');
  const usage = (lines[0] ?? '').replace(/^Usage: /, '');
  const texts: string[] = [];
  const subcommands: string[] = [];
  let section = 'description';
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) texts.push(squash(current.join(' ')));
    current = [];
  };
  for (const line of lines.slice(1)) {
    if (/^(Arguments|Options|Commands):$/.test(line)) {
      flush();
      section = line;
    } else if (/^\S/.test(line) || line === '') {
      // A paragraph of the description, or the text after the options (Examples: …), line by line.
      flush();
      if (line !== '') {
        section = section === 'description' ? section : 'after';
        texts.push(squash(line));
      }
    } else if (section === 'after') {
      texts.push(squash(line));
    } else if (/^ {2}\S/.test(line)) {
      flush();
      const [term = '', ...description] = line.trim().split(/ {2,}/);
      const name = term.split(' ')[0] ?? '';
      texts.push(term);
      if (section === 'Commands:' && name !== 'help') subcommands.push(name);
      current = description;
    } else {
      current.push(line.trim());
    }
  }
  flush();
  return { usage, texts: texts.filter((t) => t !== ''), subcommands };
}

/** Every command path reachable from `kvmctl --help` (the root is []). */
export function commandPaths(helpOf: HelpOf, path: string[] = []): string[][] {
  return [path, ...helpFacts(helpOf(path)).subcommands.flatMap((name) => commandPaths(helpOf, [...path, name]))];
}

/** Every --help of the tree, asked once each, in parallel per level; the result is a HelpOf. */
export async function collectHelp(ask: (path: string[]) => Promise<string>): Promise<HelpOf & { size: number; has(path: string): boolean }> {
  const texts = new Map<string, string>();
  let level: string[][] = [[]];
  while (level.length > 0) {
    const answers = await Promise.all(level.map(async (path) => [path, await ask(path)] as const));
    level = answers.flatMap(([path, text]) => {
      texts.set(path.join(' '), text);
      return helpFacts(text).subcommands.map((name) => [...path, name]);
    });
  }
  const helpOf = (path: string[]) => {
    const text = texts.get(path.join(' '));
    if (text === undefined) throw new Error(`no --help collected for kvmctl ${path.join(' ')}`);
    return text;
  };
  return Object.assign(helpOf, { size: texts.size, has: (path: string) => texts.has(path) });
}

/** The page as man-db shows it: wide, no hyphenation or justification to undo. */
export function renderWithMan(pagePath: string): string {
  const r = spawnSync('man', ['-l', pagePath], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8', MANWIDTH: '250', MAN_KEEP_FORMATTING: '', PAGER: 'cat' } });
  if (r.status !== 0) throw new Error(`man -l ${pagePath} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Disagreements between the rendered page and --help; empty when they agree. */
export function pageDisagreements(rendered: string, helpOf: HelpOf): string[] {
  const problems: string[] = [];
  const lines = rendered.split('\n');
  // Each command's section starts with its usage line as a subsection heading (3 spaces in).
  const headings = lines.flatMap((l, i) => (/^ {3}kvmctl /.test(l) ? [{ line: i, usage: l.trim() }] : []));
  const sectionOf = (usage: string): string | undefined => {
    const at = headings.findIndex((h) => h.usage === usage);
    const start = headings[at]?.line;
    if (start === undefined) return undefined;
    const end = headings[at + 1]?.line ?? lines.findIndex((l, i) => i > start && /^\S/.test(l));
    return squash(lines.slice(start + 1, end).join('\n'));
  };
  const paths = commandPaths(helpOf);
  for (const path of paths) {
    const facts = helpFacts(helpOf(path));
    // The root's facts are the page's top: global options, examples, exit codes.
    const section = path.length === 0 ? squash(lines.slice(0, headings[0]?.line ?? lines.length).join('\n')) : sectionOf(facts.usage);
    if (section === undefined) {
      problems.push(`kvmctl ${path.join(' ')}: no section "${facts.usage}" in the page`);
      continue;
    }
    for (const text of facts.texts) if (!section.includes(text)) problems.push(`kvmctl ${path.join(' ')} --help says "${text}"; the page does not`);
  }
  const usages = new Set(paths.slice(1).map((p) => helpFacts(helpOf(p)).usage));
  for (const { usage } of headings) if (!usages.has(usage)) problems.push(`the page describes "${usage}", which --help does not list`);
  return problems;
}
