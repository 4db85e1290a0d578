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
  | { kind: 'names'; names: string[] };

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
}
