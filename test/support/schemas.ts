/**
 * The published JSON Schemas (schemas/), compiled once with ajv: tests validate
 * what kvmctl printed against them, so a change of shape fails a test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(JSON.parse(readFileSync(resolve('schemas', 'common.schema.json'), 'utf8')));
const compiled = new Map<string, ValidateFunction>();

// Every schema is known by its file name, so that one can refer to another's definitions (vm-start -> vm-list#/definitions/...).
for (const file of readdirSync(resolve('schemas'))) {
  if (!file.endsWith('.schema.json') || file === 'common.schema.json') continue;
  const schema = JSON.parse(readFileSync(resolve('schemas', file), 'utf8'));
  if (schema.$id !== undefined && schema.$id !== file) throw new Error(`schemas/${file} has $id ${JSON.stringify(schema.$id)}: it must be its file name`);
  ajv.addSchema(schema, schema.$id === undefined ? file : undefined);
}

function validator(name: string): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.getSchema(`${name}.schema.json`);
    if (!v) throw new Error(`no schema schemas/${name}.schema.json`);
    compiled.set(name, v);
  }
  return v;
}

/** Throws, naming every violation, unless value matches schemas/<name>.schema.json. */
export function assertSchema(name: string, value: unknown): void {
  const v = validator(name);
  if (!v(value)) throw new Error(`output does not match schemas/${name}.schema.json: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value)}`);
}

/** The error object kvmctl -o json wrote as the last line of stderr, validated against schemas/error.schema.json. */
export function parseJsonError(stderr: string): { error: { code: string; exit: number; message: string; hint: string | null; object: { kind: string; name: string } | null; leftovers?: string[] } } {
  const lines = stderr.trimEnd().split('\n');
  const value = JSON.parse(lines[lines.length - 1]!);
  assertSchema('error', value);
  return value;
}

/** Global options that take a value: their value is not a word of the command. */
const GLOBAL_WITH_VALUE = new Set(['-c', '--connect', '-o', '--output', '-H', '--host', '--parallel', '--host-timeout']);

/**
 * Nouns whose every command that prints JSON has a schema: for them a command
 * without one fails the test. A noun joins this list when its schemas exist.
 */
export const COVERED_NOUNS = new Set<string>([]);

/** The words of a kvmctl command line that are not options (`vm list --all -c URI` -> vm, list). */
export function commandWords(args: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}

/**
 * The schema of a command's -o json output: schemas/<noun>-<verb>.schema.json
 * (net-forward-list, vm-snapshot-list), the longest prefix of its words that has one.
 */
export function outputSchema(args: string[]): string | null {
  const words = commandWords(args);
  for (let n = Math.min(words.length, 4); n > 0; n--) {
    const name = words.slice(0, n).join('-');
    if (existsSync(resolve('schemas', `${name}.schema.json`))) return name;
  }
  return null;
}

/** Validates what `kvmctl ARGS -o json` printed on stdout against its command's schema. */
export function assertOutput(args: string[], value: unknown): void {
  const name = outputSchema(args);
  if (name) return assertSchema(name, value);
  const words = commandWords(args);
  if (COVERED_NOUNS.has(words[0] ?? '')) throw new Error(`no schema for \`kvmctl ${words.slice(0, 3).join(' ')}\`: add schemas/${words.slice(0, 2).join('-')}.schema.json`);
}

/** Parses stdout of `kvmctl ARGS -o json` and validates it against its schema. */
export function parseOutput<T = any>(args: string[], stdout: string): T {
  const value = JSON.parse(stdout) as T;
  assertOutput(args, value);
  return value;
}

/** Throws unless value matches definition NAME of schemas/common.schema.json (address, timestamp, ...). */
export function assertDefinition(name: string, value: unknown): void {
  const v = ajv.getSchema(`common.schema.json#/definitions/${name}`);
  if (!v) throw new Error(`schemas/common.schema.json has no definition ${name}`);
  if (!v(value)) throw new Error(`value does not match definition ${name}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value)}`);
}
