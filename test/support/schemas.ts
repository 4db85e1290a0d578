/**
 * The published JSON Schemas (schemas/), compiled once with ajv: tests validate
 * what kvmctl printed against them, so a change of shape fails a test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const compiled = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(resolve('schemas', `${name}.schema.json`), 'utf8')));
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
