import type { Column } from './table.js';
import { Output, type OutputOptions, type Section } from './output.js';
import type { IO } from './io.js';

/** One thing a verb printed, kept so a fan-out can put many hosts' results together. */
export type Printed =
  | { kind: 'list'; columns: Column<any>[]; rows: unknown[]; json: unknown }
  | { kind: 'json'; value: unknown }
  | { kind: 'sections'; sections: Section<any>[] }
  | { kind: 'details'; pairs: Array<[string, string | number | boolean | undefined | null]>; sections: Section<any>[]; json: unknown }
  | { kind: 'done'; message: string; json: unknown; name?: string }
  | { kind: 'names'; names: string[] }
  | { kind: 'footnote'; heading: string; lines: string[] };

/** An Output that records what a verb prints instead of printing it; warnings still go to stderr. */
export class CapturingOutput extends Output {
  readonly printed: Printed[] = [];

  constructor(io: IO, options: OutputOptions) {
    super(io, options);
  }

  override list<T>(columns: Column<T>[], rows: T[], json: unknown = rows): void {
    this.printed.push({ kind: 'list', columns, rows, json });
  }
  override names(names: string[]): void {
    this.printed.push({ kind: 'names', names });
  }
  override details(pairs: Array<[string, string | number | boolean | undefined | null]>, sections: Section<any>[], json: unknown): void {
    this.printed.push({ kind: 'details', pairs, sections, json });
  }
  override sections(sections: Section<any>[]): void {
    this.printed.push({ kind: 'sections', sections });
  }
  override printJson(value: unknown): void {
    this.printed.push({ kind: 'json', value });
  }
  override done(message: string, json: unknown, name?: string): void {
    this.printed.push({ kind: 'done', message, json, name });
  }
  override footnote(heading: string, lines: string[]): void {
    this.printed.push({ kind: 'footnote', heading, lines });
  }
}

/** The JSON a printed thing stands for (undefined: it has none). */
export function jsonOf(p: Printed): unknown {
  switch (p.kind) {
    case 'list':
      return p.json;
    case 'json':
      return p.value;
    case 'details':
    case 'done':
      return p.json;
    case 'names':
      return p.names;
    case 'sections':
    case 'footnote':
      return undefined;
  }
}

/** Prints what was captured, as the verb would have printed it. */
export function replay(out: Output, p: Printed): void {
  switch (p.kind) {
    case 'list':
      return out.list(p.columns, p.rows, p.json);
    case 'json':
      return out.printJson(p.value);
    case 'sections':
      return out.sections(p.sections);
    case 'details':
      return out.details(p.pairs, p.sections, p.json);
    case 'done':
      return out.done(p.message, p.json, p.name);
    case 'names':
      return out.names(p.names);
    case 'footnote':
      return out.footnote(p.heading, p.lines);
  }
}
