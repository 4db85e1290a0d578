import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
  /** Optional colouring of the cell text (only applied when colour is on). */
  color?: (text: string, row: T, c: ChalkInstance) => string;
}

export function cellText(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** One renderer for every table: columns + the raw row objects. */
export function renderTable<T>(columns: Column<T>[], rows: T[], chalk: ChalkInstance | null): string {
  const table = new Table({
    head: columns.map((c) => (chalk ? chalk.bold(c.header) : c.header)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
    },
  });
  for (const row of rows) {
    table.push(
      columns.map((c) => {
        const text = cellText(c.value(row));
        return chalk && c.color ? c.color(text, row, chalk) : text;
      }),
    );
  }
  return table.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n';
}

/** Key/value table for one object (info commands). */
export function renderKeyValues(pairs: Array<[string, string | number | boolean | undefined | null]>, chalk: ChalkInstance | null): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(chalk ? chalk.bold(k.padEnd(width)) : k.padEnd(width))}  ${cellText(v)}`).join('\n') + '\n';
}
