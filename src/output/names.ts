/**
 * What `-o name` prints: each object's ID, one a line, exactly as the verbs
 * that take it accept it, so that `| xargs -d '\n' kvmctl vm delete` works.
 */
import { shellQuote, UNPRINTABLE } from '../exec/command.js';
import { RefusedError, UsageError } from '../errors.js';
import type { Column } from './table.js';

/** A row's name: its name columns' values, joined with '/' (POOL/VOLUME). */
export function rowName<T>(columns: Column<T>[], row: T): string {
  if (columns.length === 0) {
    throw new UsageError('-o name: this list has no names (its rows are not objects another command takes)', 'use -o table or -o json');
  }
  return columns.map((c) => String(c.value(row) ?? '')).join('/');
}

/** The names in a result object (or in each element of an array of them): its `name`. */
export function namesOfResult(json: unknown): string[] {
  const items = Array.isArray(json) ? json : [json];
  return items.map((item) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw new UsageError('-o name: this command prints no object name', 'use -o table or -o json');
    return name;
  });
}

/**
 * A name with a newline or another control character (virsh lets them be
 * made) would become two lines or move the terminal: the whole output is
 * refused, before a line is written, so a pipe never gets a name cut in two.
 */
export function printableNames(names: string[]): string[] {
  const bad = names.find((n) => UNPRINTABLE.test(n) || n === '');
  if (bad !== undefined) {
    throw new RefusedError(
      bad === '' ? '-o name: an object has an empty name, which would print as an empty line' : `-o name: the name ${shellQuote(bad)} holds a control character (a newline, tab, escape or bidi mark), which one-name-a-line output cannot carry`,
      'use -o json, which keeps every name exact',
    );
  }
  return names;
}
