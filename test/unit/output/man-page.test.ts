/** kvmctl(1): rendered from the command tree, read back through man-db, and held against every --help. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { main, manPage } from '../../../src/main.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { memoryIO } from '../../../src/output/io.js';
import { memoryFs } from '../../../src/local-fs.js';
import { renderManPage } from '../../../src/output/man-page.js';
import { collectHelp, pageDisagreements, renderWithMan } from '../help-facts.js';

const deps = () => ({ io: memoryIO(), runner: new FakeRunner(), fs: memoryFs({}), version: '9.9.9', signal: new AbortController().signal, argv: [] });

async function helpOf(path: string[]): Promise<string> {
  const d = deps();
  const code = await main(['node', 'kvmctl', ...path, '--help'], d);
  if (code !== 0) throw new Error(`kvmctl ${path.join(' ')} --help exited ${code}: ${d.io.err}`);
  return d.io.out;
}

describe('the man page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-man-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says what every --help says: each command, argument, option, example and the exit codes', async () => {
    const page = join(dir, 'kvmctl.1');
    writeFileSync(page, manPage(deps()));
    const help = await collectHelp(helpOf);
    const rendered = renderWithMan(page);
    expect(pageDisagreements(rendered, help)).toEqual([]);
    // The walk found the whole tree, nouns and verbs under them.
    expect(help.size).toBeGreaterThan(70);
    for (const path of ['vm create', 'volume snapshot revert', 'net forward add', 'host doctor']) expect(help.has(path)).toBe(true);
    expect(rendered).toMatch(/^EXIT STATUS\n(.*\n)*? {7}130\s+interrupted/m);
    expect(rendered).toMatch(/^KVMCTL\(1\)/);
  });

  it('fails when the page and --help disagree', async () => {
    const helpOfTree = await collectHelp(helpOf);
    // A page of an older tree: one option fewer on vm create.
    const d = deps();
    const stale = manPage(d).replace(/^\.TP\n\\fB\\-\\-autostart\\fR\nstart the VM when libvirt starts\n/m, '');
    const page = join(dir, 'stale.1');
    writeFileSync(page, stale);
    expect(pageDisagreements(renderWithMan(page), helpOfTree)).toEqual(['kvmctl vm create --help says "--autostart"; the page does not', 'kvmctl vm create --help says "start the VM when libvirt starts"; the page does not']);
    // A page describing a command the CLI does not have.
    const extra = join(dir, 'extra.1');
    writeFileSync(extra, manPage(deps()).replace('.SH EXIT STATUS', '.SS "kvmctl vm frobnicate <name>"\nno such verb\n.SH EXIT STATUS'));
    expect(pageDisagreements(renderWithMan(extra), helpOfTree)).toEqual(['the page describes "kvmctl vm frobnicate <name>", which --help does not list']);
  });

  it('prints names, flags and examples literally: roff control characters and backslashes are escaped', () => {
    const program = new Command('kvmctl').description('d');
    program.addCommand(new Command('x').description(".starts with a dot\\and a backslash").option('--a-b <c>', "'quoted"));
    const page = join(dir, 'escape.1');
    writeFileSync(page, renderManPage(program, '1.0', () => '\nExamples:\n.  $ kvmctl x --a-b \'v\'\n'));
    const text = renderWithMan(page);
    expect(text).toContain('.starts with a dot\\and a backslash');
    expect(text).toContain("--a-b <c>\n              'quoted");
    expect(text).toContain(".  $ kvmctl x --a-b 'v'");
  });
});
