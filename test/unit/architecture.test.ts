/**
 * The shape of the code, checked over all of src/: only the tool clients
 * build argv or run programs (everything else hands calls to ctx.virsh and the
 * other clients, and plans to the executor), nothing reads a virsh batch by
 * position, and no source file grows past 400 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The one module (or folder) per tool that builds its argv and runs it, with the tool. */
const TOOL_CLIENTS: Record<string, string> = {
  'src/exec/': 'the runners, plans and the executor',
  'src/libvirt/virsh.ts': 'virsh (argv, batches, error classifier)',
  'src/libvirt/virsh-client.ts': 'virsh (the client bound to a connection)',
  'src/libvirt/virsh-session.ts': 'virsh (its interactive shell, fed in rounds)',
  'src/net/ip.ts': 'ip',
  'src/net/iptables.ts': 'iptables, iptables-save',
  'src/storage/qemu-img.ts': 'qemu-img (argv, info parsing)',
  'src/storage/qemu-img-client.ts': 'qemu-img (the client bound to a runner)',
  'src/net/sysctl.ts': 'sysctl, cat of /proc/sys over ssh',
  'src/net/sockets.ts': 'ss',
  'src/net/ssh.ts': 'ssh',
  'src/images/gpg.ts': 'gpgv',
  'src/storage/local-write.ts': 'rm, mv of files in a pool (through the host runner)',
  'src/libvirt/cloud-init.ts': 'genisoimage, xorriso, isoinfo (seed images)',
};

/** The virsh client's own files: the only ones that may see a batch's outputs by position. */
const VIRSH_CLIENT = ['src/libvirt/virsh.ts', 'src/libvirt/virsh-client.ts', 'src/libvirt/virsh-session.ts'];

const isToolClient = (f: string) => Object.keys(TOOL_CLIENTS).some((c) => (c.endsWith('/') ? f.startsWith(c) : f === c));

/** What a module outside the tool clients must not contain, with why. */
const ARGV_RULES: Array<{ rule: string; pattern: RegExp }> = [
  { rule: 'builds argv with readCommand/mutatingCommand/virshRead/virshWrite', pattern: /\bimport\b[^;]*\b(readCommand|mutatingCommand|virshRead|virshWrite|virshBatch)\b[^;]*from/ },
  { rule: 'writes a `program:` literal', pattern: /\bprogram:\s*['"`]/ },
  { rule: 'calls runner.run directly', pattern: /\brunner\.run(Interactive)?\(/ },
];

/** What no module but the virsh client may contain. */
const BATCH_RULES: Array<{ rule: string; pattern: RegExp }> = [
  { rule: 'reads a batch by position (runVirshBatch, splitBatch, chunkBatch, outputs)', pattern: /\b(runVirshBatch|splitBatch|chunkBatch)\b|\.outputs\b|\boutputs\[/ },
  { rule: "runs virsh around the connection's client (runVirsh instead of ctx.virsh)", pattern: /\brunVirsh\(/ },
];

function ruleBreaches(rules: typeof ARGV_RULES, text: string): string[] {
  return rules.filter((r) => r.pattern.test(text)).map((r) => r.rule);
}

// ---- positional reads of keyed batches, found in the syntax tree -------------------

const POSITIONAL_METHODS = new Set(['slice', 'splice', 'at', 'shift', 'pop', 'subarray']);

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isAsExpression(e)) e = e.expression;
  return e;
}

/** `v.batch(…)`, `ctx.virsh.batchWithStderr(…)`, awaited or not, and property reads of one (`(await v.batch(…)).out`). */
function isBatchCall(e: ts.Expression): boolean {
  const x = unwrap(e);
  if (ts.isPropertyAccessExpression(x)) return isBatchCall(x.expression);
  return ts.isCallExpression(x) && ts.isPropertyAccessExpression(x.expression) && /^batch(WithStderr)?$/.test(x.expression.name.text);
}

/** The innermost expression of a chain of property and element reads (`out` of `out.xml[i]`). */
function rootOf(e: ts.Expression): ts.Expression {
  let x = unwrap(e);
  while (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x)) x = unwrap(x.expression);
  return x;
}

function boundNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) into.add(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) boundNames(el.name, into);
}

function hasArrayPattern(name: ts.BindingName): boolean {
  if (ts.isIdentifier(name)) return false;
  return ts.isArrayBindingPattern(name) || name.elements.some((el) => !ts.isOmittedExpression(el) && hasArrayPattern(el.name));
}

/**
 * Where a keyed batch's answers are read by position: an index that is not a
 * plain name (`out.xml[5 + n + i]`, `found.lookups[at++]`), a slice of a list,
 * or a list destructured by position. A list under a key is read with the
 * index of the list it was made from (`leases[i]` beside `names[i]`).
 */
export function positionalBatchReads(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const fromBatch = new Set<string>();
  const found: string[] = [];
  const at = (n: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const isBatchRooted = (e: ts.Expression) => {
    const root = rootOf(e);
    return (ts.isIdentifier(root) && fromBatch.has(root.text)) || isBatchCall(root);
  };
  const collect = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.initializer && (isBatchCall(n.initializer) || isBatchRooted(n.initializer))) {
      if (hasArrayPattern(n.name)) found.push(`${at(n)}: destructures a batch answer by position`);
      boundNames(n.name, fromBatch);
    }
    ts.forEachChild(n, collect);
  };
  const check = (n: ts.Node): void => {
    if (ts.isElementAccessExpression(n) && isBatchRooted(n.expression)) {
      const index = unwrap(n.argumentExpression);
      if (!ts.isIdentifier(index) && !ts.isStringLiteral(index)) found.push(`${at(n)}: reads a batch answer at ${index.getText(source)}`);
    }
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && POSITIONAL_METHODS.has(n.expression.name.text) && isBatchRooted(n.expression.expression)) {
      found.push(`${at(n)}: takes a ${n.expression.name.text}() of a batch answer`);
    }
    ts.forEachChild(n, check);
  };
  collect(source);
  check(source);
  return found;
}

const MAX_LINES = 400;

describe('architecture', () => {
  const files = sourceFiles('src').sort();

  it('the tool clients named here exist', () => {
    const missing = Object.keys(TOOL_CLIENTS).filter((c) => !files.some((f) => (c.endsWith('/') ? f.startsWith(c) : f === c)));
    expect(missing).toEqual([]);
  });

  it('outside the tool clients, no module builds argv or runs a program', () => {
    const found = files.filter((f) => !isToolClient(f)).flatMap((f) => ruleBreaches(ARGV_RULES, readFileSync(f, 'utf8')).map((rule) => `${f}: ${rule}`));
    expect(found).toEqual([]);
  });

  it('outside the virsh client, nothing runs virsh around it or sees a batch by position', () => {
    const found = files.filter((f) => !VIRSH_CLIENT.includes(f)).flatMap((f) => ruleBreaches(BATCH_RULES, readFileSync(f, 'utf8')).map((rule) => `${f}: ${rule}`));
    expect(found).toEqual([]);
  });

  it('no module reads a keyed batch answer by position', () => {
    expect(files.flatMap((f) => positionalBatchReads(f, readFileSync(f, 'utf8')))).toEqual([]);
    // Parsing every source file takes a few seconds on a loaded machine.
  }, 60_000);

  it('the text rules catch what they are meant to catch, and leave a keyed batch alone', () => {
    const caught = (text: string) => [...ruleBreaches(ARGV_RULES, text), ...ruleBreaches(BATCH_RULES, text)];
    const breaches = [
      "import { virshRead } from '../../libvirt/virsh.js';",
      "import { formatCommand, mutatingCommand } from '../../exec/command.js';",
      "return { program: 'rmdir', args: [] }",
      'await ctx.runner.run(cmd)',
      'const xml = batch.outputs[5 + i];',
      'const [a, b] = (await runVirshBatch(runner, uri, cmds)).outputs;',
      'await runVirsh(ctx.runner, cmd, subject);',
    ];
    expect(breaches.map((t) => caught(t).length)).toEqual(breaches.map(() => 1));
    expect(caught('const { caps } = await ctx.virsh.batch({ caps: domainCalls.capabilities() });')).toEqual([]);
  });

  it('the syntax-tree check finds answers read by position, and leaves a list read beside its source alone', () => {
    const positional = [
      'const out = await v.batch({ xml: calls }); const x = out.xml[5 + n + i];',
      'const found = await ctx.virsh.batch({ l }); let at = 0; const a = found.l[at++];',
      'const { xml } = await v.batch({ xml }); const [first, second] = xml;',
      'const { xml: [first] } = await v.batch({ xml });',
      'const { out } = await v.batchWithStderr({ xml }); const part = out.xml.slice(i * 3, i * 3 + 3);',
      'const x = (await v.batch({ xml })).xml[k + 1];',
    ];
    expect(positional.map((t) => positionalBatchReads('x.ts', t).length)).toEqual(positional.map(() => 1));
    const keyed = [
      'const { leases } = await v.batch({ leases: names.map(call) }); names.forEach((n, i) => use(n, leases[i]));',
      "const out = await v.batch({ caps }); const c = out['caps'];",
      'const { pools } = await v.batch({ pools: names.map((p) => ({ info: i(p), xml: x(p) })) }); const { xml } = pools[i] ?? {};',
    ];
    expect(keyed.flatMap((t) => positionalBatchReads('x.ts', t))).toEqual([]);
  });

  it(`no source file is longer than ${MAX_LINES} lines`, () => {
    const lines = (f: string) => readFileSync(f, 'utf8').split('\n').length - 1;
    expect(files.filter((f) => lines(f) > MAX_LINES).map((f) => `${f}: ${lines(f)} lines`)).toEqual([]);
  });
});
