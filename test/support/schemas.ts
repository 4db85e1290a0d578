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

// Every schema is known by its file name, so that one can refer to another's definitions (vm-start -> vm-list#/definitions/...;
// the error object's body is also an element of a many-names result: error.schema.json).
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
export const COVERED_NOUNS = new Set<string>(['vm', 'host', 'events', 'pool', 'volume', 'image', 'net', 'bridge']);

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

/** Whether ARGS name hosts with -H (--host, --host=NAME). */
export function hasHostSelector(args: string[]): boolean {
  return args.some((a) => a === '-H' || a === '--host' || a.startsWith('--host=') || (a.startsWith('-H') && a.length > 2));
}

/**
 * The read verbs -H runs on many hosts (src/app.ts FAN_OUT_COMMANDS): with -H
 * they print schemas/fan-out.schema.json, each item being the command's own
 * object (a list's row) plus `host`. Other verbs -H sends to one host (vm
 * create) print their own object.
 */
const FAN_OUT = new Set(['vm-list', 'vm-info', 'host', 'host-check', 'pool-list', 'volume-list', 'net-list', 'net-leases']);

function assertFanOut(name: string | null, value: unknown): void {
  assertSchema('fan-out', value);
  if (!name) return;
  const schema = JSON.parse(readFileSync(resolve('schemas', `${name}.schema.json`), 'utf8')) as { type?: string; anyOf?: Array<{ type?: string }> };
  const isList = schema.type === 'array' || (schema.anyOf?.every((s) => s.type === 'array') ?? false);
  for (const item of (value as { items: Array<Record<string, unknown>> }).items) {
    const { host: _host, ...rest } = item;
    // A value that is no object (a name of --name-only) comes as {host, value}.
    const own = Object.keys(rest).length === 1 && 'value' in rest && typeof rest.value !== 'object' ? rest.value : rest;
    assertSchema(name, isList ? [own] : own);
  }
}

/** Validates what `kvmctl ARGS -o json` printed on stdout against its command's schema (with -H on a read verb: the fan-out envelope and each item). */
export function assertOutput(args: string[], value: unknown): void {
  const name = outputSchema(args);
  const words = commandWords(args);
  if (hasHostSelector(args) && FAN_OUT.has(words.slice(0, 2).join('-'))) return assertFanOut(name, value);
  if (name) return assertSchema(name, value);
  if (COVERED_NOUNS.has(words[0] ?? '')) throw new Error(`no schema for \`kvmctl ${words.slice(0, 3).join(' ')}\`: add schemas/${words.slice(0, 2).join('-')}.schema.json`);
}

/** Parses stdout of `kvmctl ARGS -o json` and validates it against its schema. */
export function parseOutput<T = any>(args: string[], stdout: string): T {
  const value = JSON.parse(stdout) as T;
  assertOutput(args, value);
  return value;
}

/** Parses stdout of a streaming `kvmctl ARGS -o json` (events, vm top, vm migrate): one object a line, each validated. */
export function parseLines<T = any>(args: string[], stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseOutput<T>(args, l));
}

/** Throws unless value matches definition NAME of schemas/common.schema.json (address, timestamp, ...). */
export function assertDefinition(name: string, value: unknown): void {
  const v = ajv.getSchema(`common.schema.json#/definitions/${name}`);
  if (!v) throw new Error(`schemas/common.schema.json has no definition ${name}`);
  if (!v(value)) throw new Error(`value does not match definition ${name}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value)}`);
}
