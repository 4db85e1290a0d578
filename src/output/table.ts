import type { ChalkInstance } from 'chalk';
import { UNPRINTABLE } from '../exec/command.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
  /** Optional colouring of the cell text (only applied when colour is on). */
  color?: (text: string, row: T, c: ChalkInstance) => string;
}

export function cellText(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return escapeControls(String(v));
}

const CONTROLS = new RegExp(UNPRINTABLE.source, 'g');
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

/**
 * Table text shows control characters as visible escapes (\t, \n, \e,
 * \x07, \u202e) and backslashes doubled: a name holding a TAB, newline,
 * escape sequence or right-to-left override can then neither move a column,
 * add a row, recolour the screen nor show itself reversed. JSON is left exact.
 */
export function escapeControls(text: string): string {
  if (!UNPRINTABLE.test(text) && !text.includes('\\')) return text;
  return text.replace(/\\/g, '\\\\').replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

// SGR colour codes added by chalk take no room on screen.
const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (text: string) => (text.includes('\u001b') ? text.replace(ANSI, '').length : text.length);

/**
 * Order for names in lists: by UTF-16 code unit, the same on every host and
 * locale (like `LC_ALL=C sort`), and without loading ICU's collation data,
 * which costs more than sorting 1000 names.
 */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One renderer for every table: columns + the raw row objects, two spaces
 * between columns. Plain padding rather than a table library: with 1000 VMs a
 * layout engine costs more than the virsh calls behind the list.
 */
export function renderTable<T>(columns: Column<T>[], rows: T[], chalk: ChalkInstance | null): string {
  const header = columns.map((c) => (chalk ? chalk.bold(c.header) : c.header));
  const body = rows.map((row) =>
    columns.map((c) => {
      const text = cellText(c.value(row));
      return chalk && c.color ? c.color(text, row, chalk) : text;
    }),
  );
  const lengths = body.map((cells) => cells.map(visibleLength));
  const widths = header.map(visibleLength);
  for (const row of lengths) row.forEach((len, i) => (widths[i] = Math.max(widths[i] ?? 0, len)));
  const line = (cells: string[], lens: number[]) =>
    cells
      .map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - (lens[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header, header.map(visibleLength)), ...body.map((cells, r) => line(cells, lengths[r] ?? []))].join('\n') + '\n';
}

/** Key/value table for one object (info commands). */
export function renderKeyValues(pairs: Array<[string, string | number | boolean | undefined | null]>, chalk: ChalkInstance | null): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(chalk ? chalk.bold(k.padEnd(width)) : k.padEnd(width))}  ${cellText(v)}`).join('\n') + '\n';
}
