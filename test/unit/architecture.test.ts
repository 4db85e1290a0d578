/**
 * The shape of the code, checked: command modules (src/commands) never build
 * argv or run programs themselves (they hand calls to ctx.virsh and plans to
 * the executor), never read a virsh batch by position, and no source file
 * grows past 400 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** What a command module must not contain, with why. */
const RULES: Array<{ rule: string; pattern: RegExp }> = [
  { rule: 'builds argv with readCommand/mutatingCommand/virshRead/virshWrite', pattern: /\bimport\b[^;]*\b(readCommand|mutatingCommand|virshRead|virshWrite|virshBatch)\b[^;]*from/ },
  { rule: 'writes a `program:` literal', pattern: /\bprogram:\s*['"`]/ },
  { rule: 'calls runner.run directly', pattern: /\brunner\.run(Interactive)?\(/ },
  { rule: 'reads a batch by position (runVirshBatch outputs, splitBatch)', pattern: /\b(runVirshBatch|splitBatch)\b|\boutputs\[/ },
  { rule: 'runs virsh around the connection\'s client (runVirsh instead of ctx.virsh)', pattern: /\brunVirsh\(/ },
];

const MAX_LINES = 400;

function breaches(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return RULES.filter((r) => r.pattern.test(text)).map((r) => r.rule);
}

describe('architecture', () => {
  const commands = sourceFiles('src/commands').sort();

  it('command modules build no argv, run no program and read no batch by position', () => {
    const found = commands.flatMap((f) => breaches(f).map((rule) => `${f}: ${rule}`));
    expect(found).toEqual([]);
  });

  it('only the virsh client runs virsh: nothing else calls runVirsh', () => {
    const callers = sourceFiles('src').filter((f) => f !== 'src/libvirt/virsh.ts' && /\brunVirsh\(/.test(readFileSync(f, 'utf8')));
    expect(callers).toEqual([]);
  });

  it('the rules catch what they are meant to catch', () => {
    const caught = (text: string) => RULES.filter((r) => r.pattern.test(text)).map((r) => r.rule);
    expect(caught("import { virshRead } from '../../libvirt/virsh.js';")).toHaveLength(1);
    expect(caught("import { formatCommand, mutatingCommand } from '../../exec/command.js';")).toHaveLength(1);
    expect(caught("return { program: 'rmdir', args: [] }")).toHaveLength(1);
    expect(caught('await ctx.runner.run(cmd)')).toHaveLength(1);
    expect(caught('const xml = batch.outputs[5 + i];')).toHaveLength(1);
    expect(caught('await runVirsh(ctx.runner, cmd, subject);')).toHaveLength(1);
    expect(caught('const { caps } = await ctx.virsh.batch({ caps: domainCalls.capabilities() });')).toEqual([]);
  });

  it(`no source file is longer than ${MAX_LINES} lines`, () => {
    const files = sourceFiles('src');
    const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;
    expect(files.filter((f) => lines(f) > MAX_LINES)).toEqual([]);
  });
});
