import type { ChalkInstance } from 'chalk';
import { UNPRINTABLE } from '../exec/command.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
  /** Optional colouring of the cell text (only applied when colour is on). */
  color?: (text: string, row: T, c: ChalkInstance) => string;
  /**
   * The column names the row: `-o name` prints it (several such columns are
   * joined with '/': POOL/VOLUME) and a narrow terminal never shortens it.
   * Without any, a list's NAME column is its name.
   */
  name?: boolean;
  /** Shown only with --wide. */
  wide?: boolean;
}

/** How a table is laid out: the terminal's width (none when stdout is no terminal) and --wide. */
export interface TableLayout {
  /** Columns of the terminal; undefined: never shorten anything. */
  width?: number;
  /** --wide: the columns marked wide too, and nothing shortened. */
  wide: boolean;
}

const FULL: TableLayout = { wide: false };

/** The columns that name a row: those marked `name`, else the one headed NAME. */
export function nameColumns<T>(columns: Column<T>[]): Column<T>[] {
  const marked = columns.filter((c) => c.name);
  return marked.length > 0 ? marked : columns.filter((c) => c.header === 'NAME');
}

/** The columns a table shows: the wide ones only with --wide. */
export function shownColumns<T>(columns: Column<T>[], layout: TableLayout): Column<T>[] {
  return layout.wide ? columns : columns.filter((c) => !c.wide);
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

/** Characters on screen: code points (table text is escaped, so none of them is a control character). */
const visibleLength = (text: string) => (/[\ud800-\udfff]/.test(text) ? [...text].length : text.length);

const ELLIPSIS = '…';
/** A shortened column keeps at least this many characters (or its header's width, if wider). */
const MIN_SHRUNK = 6;

function shorten(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  return [...text].slice(0, Math.max(width - 1, 0)).join('') + ELLIPSIS;
}

/**
 * Widths that fit `total` characters with two spaces between columns: the
 * widest shrinkable column loses a character at a time, never below its
 * header (or MIN_SHRUNK); columns that name rows never shrink. When even that
 * does not fit, the rows are as narrow as the rule allows and the terminal
 * wraps them.
 */
export function fitWidths(widths: number[], floors: number[], keep: boolean[], total: number): number[] {
  const out = [...widths];
  let excess = out.reduce((a, b) => a + b, 0) + 2 * Math.max(out.length - 1, 0) - total;
  while (excess > 0) {
    let widest = -1;
    out.forEach((w, i) => {
      if (!keep[i] && w > (floors[i] ?? 0) && (widest < 0 || w > (out[widest] ?? 0))) widest = i;
    });
    if (widest < 0) break;
    // Take from the widest down to the next widest in one go (1000 rows of long paths).
    const next = Math.max(floors[widest] ?? 0, ...out.map((w, i) => (i !== widest && !keep[i] ? w : 0)));
    const take = Math.min(excess, Math.max((out[widest] ?? 0) - next, 1));
    out[widest] = (out[widest] ?? 0) - take;
    excess -= take;
  }
  return out;
}

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
 * layout engine costs more than the virsh calls behind the list. On a
 * terminal (layout.width) long cells are shortened with '…' so that each row
 * fits; piped output and --wide are never shortened.
 */
export function renderTable<T>(all: Column<T>[], rows: T[], chalk: ChalkInstance | null, layout: TableLayout = FULL): string {
  const columns = shownColumns(all, layout);
  const n = columns.length;
  const names = new Set(nameColumns(columns));
  // Each cell's text and length once, in one flat array (1000 rows x 10 columns under -H).
  const texts = new Array<string>(rows.length * n);
  const lengths = new Array<number>(rows.length * n);
  const natural = columns.map((c) => visibleLength(c.header));
  for (let r = 0, k = 0; r < rows.length; r++) {
    const row = rows[r] as T;
    for (let i = 0; i < n; i++, k++) {
      const text = cellText((columns[i] as Column<T>).value(row));
      const length = visibleLength(text);
      texts[k] = text;
      lengths[k] = length;
      if (length > (natural[i] ?? 0)) natural[i] = length;
    }
  }
  const widths =
    layout.width === undefined || layout.wide
      ? natural
      : fitWidths(
          natural,
          columns.map((c) => Math.max(visibleLength(c.header), MIN_SHRUNK)),
          columns.map((c) => names.has(c)),
          layout.width,
        );
  const cell = (text: string, length: number, i: number, paint: ((t: string) => string) | undefined) => {
    const width = widths[i] ?? 0;
    let shown = text;
    if (length > width) {
      shown = shorten(text, width);
      length = visibleLength(shown);
    }
    return (paint ? paint(shown) : shown) + ' '.repeat(Math.max(width - length, 0));
  };
  const bold = chalk ? (t: string) => chalk.bold(t) : undefined;
  let header = '';
  for (let i = 0; i < n; i++) {
    const h = (columns[i] as Column<T>).header;
    header += (i > 0 ? '  ' : '') + cell(h, visibleLength(h), i, bold);
  }
  let out = header.trimEnd() + '\n';
  for (let r = 0, k = 0; r < rows.length; r++) {
    const row = rows[r] as T;
    let line = '';
    for (let i = 0; i < n; i++, k++) {
      const color = chalk ? (columns[i] as Column<T>).color : undefined;
      line += (i > 0 ? '  ' : '') + cell(texts[k] as string, lengths[k] as number, i, color && chalk ? (t) => color(t, row, chalk) : undefined);
    }
    out += line.trimEnd() + '\n';
  }
  return out;
}

/** Key/value table for one object (info commands); on a terminal a long value is shortened to fit, as in tables. */
export function renderKeyValues(pairs: Array<[string, string | number | boolean | undefined | null]>, chalk: ChalkInstance | null, layout: TableLayout = FULL): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  const room = layout.width === undefined || layout.wide ? Infinity : Math.max(layout.width - width - 2, MIN_SHRUNK);
  return pairs.map(([k, v]) => `${(chalk ? chalk.bold(k.padEnd(width)) : k.padEnd(width))}  ${shorten(cellText(v), room)}`).join('\n') + '\n';
}
