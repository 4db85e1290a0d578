/**
 * One verb, one file, typed end to end. A verb file declares its arguments and
 * options as a table; the table gives commander its declaration and gives the
 * run function its parameter types, so a flag renamed in one place fails to
 * compile in the other (an option's key must be the attribute commander makes
 * of its flag: `--source-dev <d>` is `sourceDev`, `--no-start` is `start`).
 * The name and the description come first, as `new Command(name).description(…)`
 * has them, then the run function itself, then what else the verb declares.
 *
 *   const options = { path: value('--path <dir>', 'target directory'), start: negatable('--no-start', 'do not start') };
 *   export type PoolCreateOptions = OptionsOf<typeof options>;        // { path?: string; start: boolean }
 *   export async function runPoolCreate(ctx: Context, name: string, o: PoolCreateOptions) { … }
 *   export const poolCreateCommand = verb('create', '…', runPoolCreate, { args: [arg('<name>', 'pool name')], options });
 *
 * A noun's verbs on the same arguments take them from its helper (verbOn): `poolVerb('refresh', '…', runPoolRefresh)`.
 */
import { Argument, Command, Option } from 'commander';
import { examples, type App } from './app.js';
import type { Context } from './context.js';
import { forEachName, unlessAbsent, type ManyNames } from './many-names.js';
import type { Column } from './output/table.js';

// ---- options ------------------------------------------------------------------

export interface OptionSpec<F extends string, V> {
  flags: F;
  description: string;
  default?: unknown;
  choices?: readonly string[];
  parse?: (value: string, previous: unknown) => unknown;
  hidden?: boolean;
  /** commander's requiredOption: missing is a usage error (exit 2). */
  mandatory?: boolean;
  /** Never read: carries the value type. */
  readonly __value?: V;
}

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type LongOf<F extends string> = F extends `${string}--${infer R}` ? (R extends `${infer N} ${string}` ? N : R) : never;
/** The attribute commander stores a flag under: `--source-dev <d>` -> sourceDev, `--no-start` -> start. */
export type AttrOf<F extends string> = LongOf<F> extends `no-${infer N}` ? Camel<N> : Camel<LongOf<F>>;

/** `--force`: true when given. */
export function flag<F extends string>(flags: F, description: string, o: { hidden?: boolean } = {}): OptionSpec<F, boolean | undefined> {
  return { flags, description, ...o };
}

/** `--no-start`: true unless given. */
export function negatable<F extends `--no-${string}`>(flags: F, description: string): OptionSpec<F, boolean> {
  return { flags, description };
}

/** `--path <dir>`: the string given, or undefined (or the default). */
export function value<F extends string>(flags: F, description: string): OptionSpec<F, string | undefined>;
export function value<F extends string>(flags: F, description: string, o: { default: string; choices?: readonly string[]; hidden?: boolean }): OptionSpec<F, string>;
export function value<F extends string>(flags: F, description: string, o: { choices?: readonly string[]; hidden?: boolean }): OptionSpec<F, string | undefined>;
export function value<F extends string>(flags: F, description: string, o: { default?: string; choices?: readonly string[]; hidden?: boolean } = {}): OptionSpec<F, string | undefined> {
  return { flags, description, ...o };
}

/** An option that must be given (commander's requiredOption), optionally one of `choices`. */
export function required<F extends string>(flags: F, description: string, o: { choices?: readonly string[] } = {}): OptionSpec<F, string> {
  return { flags, description, mandatory: true, ...o };
}

/** `--source-dev <d>` given any number of times: every value, in order (undefined when never given). */

export function list<F extends string>(flags: F, description: string): OptionSpec<F, string[] | undefined> {
  return { flags, description, parse: collect };
}

function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? previous : []), value];
}

export type OptionTable = Record<string, OptionSpec<string, unknown>>;
type ValueOf<S> = S extends OptionSpec<string, infer V> ? V : never;
type Given<T extends OptionTable> = { [K in keyof T]: undefined extends ValueOf<T[K]> ? never : K }[keyof T];
/** The options object commander builds: options that may be absent are optional keys (commander leaves them out). */
export type OptionsOf<T extends OptionTable> = Simplify<{ [K in Given<T>]: ValueOf<T[K]> } & { [K in Exclude<keyof T, Given<T>>]?: ValueOf<T[K]> }>;
type Simplify<T> = { [K in keyof T]: T[K] };
/** Every key of the table names its flag's attribute; a mismatch becomes a type error at the table. */
type Checked<T extends OptionTable> = { [K in keyof T]: T[K] extends OptionSpec<infer F, unknown> ? (AttrOf<F> extends K ? T[K] : OptionSpec<`the key ${K & string} does not match ${F}`, never>) : never };

// ---- arguments ----------------------------------------------------------------

export interface ArgSpec<N extends string> {
  name: N;
  description: string;
  choices?: readonly string[];
  /** Set by names(): the verb runs once per name given. */
  many?: ManyNames;
}

/** An argument of one or more names (`<name...>`): the run function is called once per name, with that one name (src/many-names.ts). */
export interface NamesSpec<N extends string> extends ArgSpec<N> {
  many: ManyNames;
}

export function arg<N extends `<${string}>` | `[${string}]`>(name: N, description: string, o: { choices?: readonly string[] } = {}): ArgSpec<N> {
  return { name, description, ...o };
}

/**
 * `vm start a b c`: one or more names, each acted on by the verb's run function
 * in turn (it receives one name, as before); many.serial says why --parallel
 * must not act on several at once, where it must not.
 */
export function names<N extends `<${string}...>`>(name: N, description: string, many: ManyNames): NamesSpec<N> {
  return { name, description, many };
}

type ArgValue<N extends string> = N extends `<${string}...>` ? string[] : N extends `[${string}...]` ? string[] : N extends `<${string}>` ? string : string | undefined;
export type ArgsOf<A extends readonly ArgSpec<string>[]> = { -readonly [I in keyof A]: A[I] extends NamesSpec<string> ? string : A[I] extends ArgSpec<infer N> ? ArgValue<N> : never };

/**
 * A delete's --if-exists: the kind of object it deletes and, from the run
 * function's arguments, that object's name (as its not-found error names it)
 * and the keys that name it in the result (default: `{name}` of the name).
 */
export interface IfExistsSpec<Args extends unknown[]> {
  kind: string;
  name?: (...args: Args) => string;
  keys?: (...args: Args) => Record<string, unknown>;
}

// ---- the verb -----------------------------------------------------------------

/** The run function of a verb: the context, the declared arguments in order, then the options object. */
export type VerbRun<A extends readonly ArgSpec<string>[], T extends OptionTable> = (ctx: Context, ...args: [...ArgsOf<A>, OptionsOf<T>]) => Promise<void>;

/** What a verb declares besides its name, description and run function. */
export interface VerbSpec<A extends readonly ArgSpec<string>[], T extends OptionTable> {
  args?: A;
  options?: T & Checked<T>;
  /** Example command lines for --help (without the "$ "). */
  examples?: readonly string[];
  /** Text after the examples in --help. */
  notes?: string;
  /** A read verb that -H may run on many hosts. */
  fanOut?: boolean;
  /**
   * The columns of the list a fanOut verb prints (none: it prints no list, given these options): under -H its table
   * is HOST first, one error row a host, even when every host fails.
   */
  listColumns?: Column<any>[] | ((ctx: Context, ...args: [...ArgsOf<A>, OptionsOf<T>]) => Column<any>[] | undefined);
  /** A verb that -H sends to one host this chooses from the selectors and the parsed arguments (vm create -H auto). */
  place?: (ctx: Context, selectors: string[], ...args: [...ArgsOf<A>, OptionsOf<T>]) => Promise<string>;
  /** A delete: --if-exists makes the object's absence exit 0 (`changed: false`). */
  ifExists?: IfExistsSpec<[...ArgsOf<A>, OptionsOf<T>]>;
  /** Anything else commander offers (aliases, hidden commands). */
  configure?: (cmd: Command) => void;
}

/** A verb's commander declaration, made for an App: `noun.addCommand(poolCreateCommand(app))`. */
export type VerbDeclaration = (app: App) => Command;

const ifExistsOption = () =>
  new Option('--if-exists', 'an object that does not exist is no error: exit 0, changed: false (any other error stays)');

/** "vm start", from the commander tree. */
function commandWords(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** Help text for a verb of many names: in what order they are done, and whether --parallel applies. */
function manyNote(many: ManyNames): string {
  return (
    '\nSeveral names are done one after the other, in the order given; a failure on one does not stop the others,\n' +
    'and the exit code is the most serious among them (-o json: an array, one element per name). ' +
    (many.serial === undefined ? '--parallel N does N at once.\n' : `--parallel is refused (exit 2): ${many.serial}.\n`)
  );
}

/** The verb's commander declaration, its action (run) wrapped with a Context: `noun.addCommand(poolCreateCommand(app))`. */
export function verb<const A extends readonly ArgSpec<string>[] = [], const T extends OptionTable = Record<never, never>>(
  name: string,
  description: string,
  run: NoInfer<VerbRun<A, T>>,
  spec?: VerbSpec<A, T>,
): VerbDeclaration;
export function verb<A extends readonly ArgSpec<string>[], T extends OptionTable>(name: string, description: string, run: VerbRun<A, T>, spec: VerbSpec<A, T> = {}): VerbDeclaration {
  return declare(name, description, run, spec, spec.args ?? []);
}

/** The declaration itself; `args` are the arguments A stands for (the verb's own, or a helper's and then the verb's). */
function declare<A extends readonly ArgSpec<string>[], T extends OptionTable>(name: string, description: string, run: VerbRun<A, T>, spec: Omit<VerbSpec<A, T>, 'args'>, args: readonly ArgSpec<string>[]): VerbDeclaration {
  return (app) => {
    const cmd = new Command(name).description(description);
    for (const a of args) {
      const argument = new Argument(a.name, a.description);
      cmd.addArgument(a.choices ? argument.choices([...a.choices]) : argument);
    }
    for (const [key, o] of Object.entries((spec.options ?? {}) as OptionTable)) {
      const option = new Option(o.flags, o.description);
      // The table's key is the run function's field name; the types check it, this catches a cast.
      if (option.attributeName() !== key) throw new Error(`verb ${name}: option key ${key} does not match ${o.flags} (${option.attributeName()})`);
      if (o.choices) option.choices([...o.choices]);
      if (o.default !== undefined) option.default(o.default);
      if (o.parse) option.argParser(o.parse);
      if (o.hidden) option.hideHelp();
      if (o.mandatory) option.makeOptionMandatory();
      cmd.addOption(option);
    }
    if (spec.ifExists) cmd.addOption(ifExistsOption());
    const manyAt = args.findIndex((a) => a.many !== undefined);
    const many = args[manyAt]?.many;
    if (spec.examples || spec.notes || many) cmd.addHelpText('after', (spec.examples ? examples(...spec.examples) : '') + (spec.notes ?? '') + (many ? manyNote(many) : ''));
    spec.configure?.(cmd);
    // commander hands the action exactly the declared arguments, then the options object: the shape the tables above describe.
    const place = spec.place;
    const listColumns = spec.listColumns;
    type Parsed = [...ArgsOf<A>, OptionsOf<T>];
    const ifExists = spec.ifExists;
    const runOne = (ctx: Context, parsed: unknown[]): Promise<void> => {
      const { ifExists: given, ...o } = parsed[parsed.length - 1] as Record<string, unknown>;
      const args = [...parsed.slice(0, -1), o] as Parsed;
      if (!ifExists || given !== true) return run(ctx, ...args);
      const name = ifExists.name ? ifExists.name(...args) : String(args[Math.max(manyAt, 0)]);
      return unlessAbsent(ctx, { kind: ifExists.kind, name, keys: ifExists.keys ? ifExists.keys(...args) : { name } }, () => run(ctx, ...args));
    };
    const action =
      many === undefined
        ? runOne
        : (ctx: Context, parsed: unknown[]) => forEachName(ctx, commandWords(cmd), parsed[manyAt] as string[], many, (c, name) => runOne(c, parsed.map((p, i) => (i === manyAt ? name : p))));
    return cmd.action(
      app.run(action, {
        fanOut: spec.fanOut,
        listColumns: listColumns && ((ctx, parsed) => (typeof listColumns === 'function' ? listColumns(ctx, ...(parsed as Parsed)) : listColumns)),
        place: place && ((ctx, selectors, parsed) => place(ctx, selectors, ...(parsed as [...ArgsOf<A>, OptionsOf<T>]))),
      }),
    );
  };
}

/**
 * Declares verbs on the same arguments (one VM, one pool, a volume's snapshot): each gets them (and the help note)
 * without repeating them. A verb's own `args` follow them (`vm exec NAME COMMAND...`), its own `notes` come before the note.
 */
export function verbOn<const A extends readonly ArgSpec<string>[]>(args: A, notes?: string) {
  return <const M extends readonly ArgSpec<string>[] = [], const T extends OptionTable = Record<never, never>>(
    name: string,
    description: string,
    run: NoInfer<VerbRun<[...A, ...M], T>>,
    spec: Omit<VerbSpec<[...A, ...M], T>, 'args'> & { args?: M } = {},
  ): VerbDeclaration => {
    const together = (spec.notes ?? '') + (notes ?? '');
    return declare<[...A, ...M], T>(name, description, run, { ...spec, ...(together !== '' && { notes: together }) }, [...args, ...(spec.args ?? [])]);
  };
}
