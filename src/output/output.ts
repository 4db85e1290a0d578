import { Chalk, type ChalkInstance } from 'chalk';
import type { IO } from './io.js';
import { nameColumns, renderKeyValues, renderTable, type Column, type TableLayout } from './table.js';
import { namesOfResult, printableNames, rowName } from './names.js';

export type OutputFormat = 'table' | 'json' | 'name';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'name'];

export interface OutputOptions {
  format: OutputFormat;
  quiet: boolean;
  color: boolean;
  /** --dry-run: result lines say that nothing was changed. */
  dryRun?: boolean;
  /** --wide: tables show every column, each cell in full. */
  wide?: boolean;
}

export interface Section<T = unknown> {
  title: string;
  columns: Column<T>[];
  rows: T[];
  /** Shown instead of an empty table. */
  empty?: string;
}

/** Colour and spinner policy plus rendering of results; commands never print tables themselves. */
export class Output {
  readonly chalk: ChalkInstance | null;

  constructor(
    readonly io: IO,
    readonly options: OutputOptions,
  ) {
    const colorOn = options.color && io.stdoutIsTTY && io.env.NO_COLOR === undefined && options.format === 'table';
    this.chalk = colorOn ? new Chalk({ level: 1 }) : null;
  }

  get json(): boolean {
    return this.options.format === 'json';
  }

  /** -o name: only the names (IDs) of the objects listed or changed, one a line. */
  get nameOnly(): boolean {
    return this.options.format === 'name';
  }

  /** Tables fit a terminal's width; piped output and --wide are never shortened. */
  get layout(): TableLayout {
    return { width: this.io.stdoutIsTTY ? this.io.stdoutColumns : undefined, wide: Boolean(this.options.wide) };
  }

  /** A list: a table of rows, or the raw objects as JSON, or (-o name) the names of the rows. */
  list<T>(columns: Column<T>[], rows: T[], json: unknown = rows): void {
    if (this.json) return this.printJson(json);
    if (this.nameOnly) return this.names(rows.map((row) => rowName(nameColumns(columns), row)));
    if (rows.length === 0) return;
    this.io.stdout(renderTable(columns, rows, this.chalk, this.layout));
  }

  /** Names only, one per line (for --name-only and -o name); JSON prints the array. */
  names(names: string[]): void {
    if (this.json) return this.printJson(names);
    if (names.length > 0) this.io.stdout(printableNames(names).join('\n') + '\n');
  }

  /** One object: key/value lines and optional sub-tables; JSON prints the object; -o name its name. */
  details(pairs: Array<[string, string | number | boolean | undefined | null]>, sections: Section<any>[], json: unknown): void {
    if (this.json) return this.printJson(json);
    if (this.nameOnly) return this.names(namesOfResult(json));
    this.io.stdout(renderKeyValues(pairs, this.chalk, this.layout));
    this.sections(sections);
  }

  sections(sections: Section<any>[]): void {
    if (this.nameOnly) return;
    for (const s of sections) {
      this.io.stdout('\n' + (this.chalk ? this.chalk.bold.underline(s.title) : `${s.title}:`) + '\n');
      if (s.rows.length === 0) this.io.stdout(`  ${s.empty ?? '(none)'}\n`);
      else this.io.stdout(renderTable(s.columns, s.rows, this.chalk, this.layout));
    }
  }

  /** Lines under a heading after a list (host check's fixes); nothing in JSON, whose objects carry them, or with -o name. */
  footnote(heading: string, lines: string[]): void {
    if (this.json || this.nameOnly || lines.length === 0) return;
    this.io.stdout(`\n${heading}:\n` + lines.map((l) => `  ${l}\n`).join(''));
  }

  printJson(value: unknown): void {
    this.io.stdout(JSON.stringify(value, null, 2) + '\n');
  }

  /** Raw text (XML, logs) printed as is. */
  raw(text: string): void {
    this.io.stdout(text.endsWith('\n') || text === '' ? text : text + '\n');
  }

  /**
   * A one-line result for humans ("vm web1 started"); JSON mode prints the
   * result object instead; -o name the object's ID as its delete takes it:
   * `name` when given (POOL/VOLUME, a forward's PROTO-PORT), else the
   * result's `name` (each element's, for many).
   */
  done(message: string, json: unknown, name?: string): void {
    if (this.json) return this.printJson(json);
    if (this.nameOnly) return this.names(name !== undefined ? [name] : namesOfResult(json));
    if (!this.options.quiet) this.io.stdout((this.options.dryRun ? `${message} (dry run: nothing was changed)` : message) + '\n');
  }

  info(message: string): void {
    if (!this.options.quiet) this.io.stderr(message + '\n');
  }

  warn(message: string): void {
    this.io.stderr((this.chalk ? this.chalk.yellow('warning:') : 'warning:') + ' ' + message + '\n');
  }
}
